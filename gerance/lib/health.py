"""Probes of the services the application depends on, for /healthz."""

from django.conf import settings
from django.db import DatabaseError, connections
from kombu import Connection


def database_ok(alias: str = "default") -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def broker_ok(timeout: float = 2.0) -> bool:
    """Open a connection to the Celery broker, trying once, within `timeout` seconds."""
    connection = Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=timeout,
    )
    try:
        connection.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:  # kombu raises the transport's own errors (OSError, redis errors…)
        return False
    finally:
        connection.release()


def static_files_ok() -> bool:
    """Whether pages can name their static files: a manifest storage needs collectstatic's manifest.

    Without it, every page that uses {% static %} answers 500 while the database and the broker
    are fine. With DEBUG on, the manifest storages serve the files by their plain names.
    """
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestFilesMixin):
        return True
    return not staticfiles_storage.manifest_strict or bool(staticfiles_storage.hashed_files)
