from django import template
from django.db.models import Count, Q
from django.utils import timezone

from correspondence.models import OPEN_STATUSES, IncomingItem

register = template.Library()


@register.inclusion_tag("correspondence/partials/work_summary.html")
def work_summary(user):
    """How many open items the user has, how many are overdue (one aggregate query)."""
    counts = IncomingItem.objects.filter(assigned_to=user, status__in=OPEN_STATUSES).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lte=timezone.now()))
    )
    return {"counts": counts}


@register.inclusion_tag("correspondence/partials/dossier_history.html")
def dossier_history(dossier, limit: int = 20):
    """The latest entries of a dossier's timeline, for the dossier's page (a constant 4 queries)."""
    from correspondence.selectors import dossier_timeline

    return {"dossier": dossier, "timeline": dossier_timeline(dossier, limit=limit)}
