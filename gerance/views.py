from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gerance.lib import health


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """JSON state of the database, the broker and the static files; HTTP 503 when one fails."""
    checks = {
        "database": "ok" if health.database_ok() else "down",
        "broker": "ok" if health.broker_ok() else "down",
        "static": "ok" if health.static_files_ok() else "missing",
    }
    healthy = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if healthy else "error", **checks}
    return JsonResponse(body, status=200 if healthy else 503)
