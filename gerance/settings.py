"""Settings for the Gérance back-office.

One module for every environment: what differs between a laptop and production comes from the
environment (or an optional `.env` file next to `manage.py`). Every default is an embedded one that
needs no server: SQLite, a filesystem Celery broker and local files, all under `var/`.
"""

import zoneinfo
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from gerance.lib.env import Env

BASE_DIR = Path(__file__).resolve().parent.parent

# Booleans and numbers are read strictly: a value they cannot read stops the start-up.
env = Env()
# Read once; real environment variables win over the file.
Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Everything the embedded defaults write (database, broker queues, documents) lives here.
VAR_DIR = Path(env.path("VAR_DIR", default=BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=true for local development)."
        )
    # Development only: one random key per checkout, so sessions survive a restart.
    from django.core.management.utils import get_random_secret_key

    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(get_random_secret_key())
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
    "contacts",
    "correspondence",
    "ged",
    "redmine_bridge",
    "email_channel",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before CommonMiddleware, the first to check the host (see the class).
    "gerance.middleware.HealthzMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gerance.urls"
WSGI_APPLICATION = "gerance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share the file: wait for locks instead of failing,
    # and take the write lock at BEGIN so that a reader never has to upgrade (SQLITE_BUSY).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Paris")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from exc

# --- Static files and documents -------------------------------------------------------------
STATIC_URL = "static/"
# collectstatic's output. The Docker image sets it to a folder of its own, outside the documents
# volume mounted on VAR_DIR, which would hide the files collected when the image was built.
STATIC_ROOT = Path(env.path("STATIC_ROOT", default=VAR_DIR / "static"))
# whitenoise warns on every request when it is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # Documents on S3 (or any S3-compatible server): private objects, short-lived signed URLs.
    _documents_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "file_overwrite": False,
        },
    }
else:
    _documents_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
STORAGES = {
    "default": _documents_storage,
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
    },
}

# --- GED (documents) ------------------------------------------------------------------------
# Per file, in bytes. The browser sends one file per request, so a proxy in front must accept
# request bodies a little larger than this.
GED_MAX_UPLOAD_SIZE = env.int("GED_MAX_UPLOAD_SIZE", default=25 * 1024 * 1024)
if GED_MAX_UPLOAD_SIZE <= 0:
    raise ImproperlyConfigured("GED_MAX_UPLOAD_SIZE must be a positive number of bytes.")
# The types ged/sniffing.py recognises from the bytes; the setting may only narrow them.
GED_KNOWN_CONTENT_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "message/rfc822",
)
GED_ALLOWED_CONTENT_TYPES = env.list(
    "GED_ALLOWED_CONTENT_TYPES", default=list(GED_KNOWN_CONTENT_TYPES)
)
if _unknown_types := sorted(set(GED_ALLOWED_CONTENT_TYPES) - set(GED_KNOWN_CONTENT_TYPES)):
    raise ImproperlyConfigured(
        f"GED_ALLOWED_CONTENT_TYPES has unknown types {_unknown_types}; "
        f"choose among {list(GED_KNOWN_CONTENT_TYPES)}."
    )
# Files above this size are spooled to a temporary file instead of memory while uploading.
FILE_UPLOAD_MAX_MEMORY_SIZE = min(2_621_440, GED_MAX_UPLOAD_SIZE)
# The form fields of a request (files excluded) stay small; files are capped one by one above.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("GED_MAX_FILES_PER_REQUEST", default=20)
# Local storage: documents are readable by the application's user and group only.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# --- Email ----------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gerance@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The right-hand side of the Message-IDs we generate (replies thread back through it).
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="gerance.localhost")

# --- Security (secure unless DEBUG; each one can be relaxed from the environment) ------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# On in production so that `check --deploy` is clean (issue 2). The directive only consents: a
# domain enters the browsers' preload list when someone submits it (hstspreload.org), and leaving
# the list takes months, so `false` is there for an agency that will never submit it.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is probed over plain HTTP by load balancers and container healthchecks.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"  # a page that must be framed (a PDF preview) says so with a decorator

# --- Correspondence (R8) ---------------------------------------------------------------------
# Hours allowed to answer, per channel, in real elapsed time. Visits and calls have no deadline
# in the procedure: they are closed by their written confirmation (R9).
CORRESPONDENCE_RESPONSE_HOURS = {
    "letter": env.int("LETTER_RESPONSE_HOURS", default=72),
    "email": env.int("EMAIL_RESPONSE_HOURS", default=48),
}
AGENCY_NAME = env.str("AGENCY_NAME", default="Agence de gestion")
AGENCY_ADDRESS = env.str("AGENCY_ADDRESS", default="")

# --- Deadlines and alerts (R8) ---------------------------------------------------------------
# "elapsed": every hour counts (the procedure's wording); "working_days": only the hours of working
# days count, weekends and the public holidays of AGENCY_DEPARTMENT excluded. A deadline is stored
# when set: changing this setting moves no deadline already set.
CORRESPONDENCE_CALENDAR = env.str("CORRESPONDENCE_CALENDAR", default="elapsed")
if CORRESPONDENCE_CALENDAR not in ("elapsed", "working_days"):
    raise ImproperlyConfigured(
        f"CORRESPONDENCE_CALENDAR={CORRESPONDENCE_CALENDAR!r}: choose 'elapsed' or 'working_days'."
    )
# The agency's department, for its public holidays: "75", "57" (Moselle), "67"/"68" (Alsace),
# "971" Guadeloupe, "972" Martinique, "973" Guyane, "974" La Réunion, "976" Mayotte.
from correspondence.calendars import check_department  # noqa: E402 (needs no Django setup)

AGENCY_DEPARTMENT = check_department(env.str("AGENCY_DEPARTMENT", default=""))
# The gestionnaire is warned once this share of the answering window has gone (0.75: 12 hours
# before an email's deadline, 18 hours before a letter's).
ALERT_WARNING_SHARE = env.float("ALERT_WARNING_SHARE", default=0.75)
if not 0 < ALERT_WARNING_SHARE < 1:
    raise ImproperlyConfigured("ALERT_WARNING_SHARE must be between 0 and 1 (e.g. 0.75).")
# The direction is alerted this many hours (of the calendar) after a deadline still unanswered.
ALERT_ESCALATION_HOURS = env.int("ALERT_ESCALATION_HOURS", default=24)
if ALERT_ESCALATION_HOURS < 0:
    raise ImproperlyConfigured("ALERT_ESCALATION_HOURS must be zero or more hours.")
ALERT_SWEEP_SECONDS = env.int("ALERT_SWEEP_SECONDS", default=60)
if ALERT_SWEEP_SECONDS < 5:
    raise ImproperlyConfigured("ALERT_SWEEP_SECONDS must be at least 5 seconds.")
# When the direction's daily digest of overdue items leaves, local time (HH:MM).
ALERT_DIGEST_TIME = env.str("ALERT_DIGEST_TIME", default="07:30")
try:
    _digest_hour, _digest_minute = (int(part) for part in ALERT_DIGEST_TIME.split(":"))
    if not (0 <= _digest_hour < 24 and 0 <= _digest_minute < 60):
        raise ValueError
except ValueError as exc:
    raise ImproperlyConfigured(f"ALERT_DIGEST_TIME={ALERT_DIGEST_TIME!r}: use HH:MM.") from exc
# The address of the application in the links of the alert emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"  # kombu's default is ./control
    for _dir in (_queue_dir, _processed_dir, _control_dir):
        _dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest task (see CELERY_TASK_TIME_LIMIT), or Redis would hand an
        # unacknowledged message to a second worker while the first is still on it.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=f"file://{VAR_DIR / 'celery' / 'results'}"
)
if CELERY_RESULT_BACKEND.startswith("file://"):
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A message is acknowledged once its task has finished, and given back to the queue when the
# worker running it dies: a killed worker leads to a redelivery, never to a lost task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Periodic tasks, one place. Each `expires` is just under its period so that a backlog never
# runs the same sweep many times over; every periodic task is safe when two run at once.
CELERY_BEAT_SCHEDULE: dict = {
    "correspondence-sweep-unsent-replies": {
        "task": "correspondence.tasks.sweep_unsent_replies",
        "schedule": 300,
        "options": {"expires": 290},
    },
    # R8: warn, alert and escalate (see correspondence.alerts); one indexed query a minute.
    "correspondence-alerts-sweep": {
        "task": "correspondence.tasks.sweep_alerts",
        "schedule": ALERT_SWEEP_SECONDS,
        "options": {"expires": ALERT_SWEEP_SECONDS * 0.9},
    },
    # Alerts whose delivery task was lost (Redis restarted) are enqueued again.
    "correspondence-alerts-redeliver": {
        "task": "correspondence.tasks.redeliver_alerts",
        "schedule": 300,
        "options": {"expires": 290},
    },
    "correspondence-alerts-digest": {
        "task": "correspondence.tasks.send_alert_digest",
        "schedule": crontab(hour=_digest_hour, minute=_digest_minute),
        "options": {"expires": 23 * 3600},
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Email channel (mailbox: R7, R8) -------------------------------------------------------
# The mailboxes read by beat, one URL each (format in email_channel/config.py and the README);
# none by default: emails are then registered by hand.
try:
    from email_channel.config import parse_mailbox_urls

    MAILBOXES = parse_mailbox_urls(env.list("MAILBOX_URLS", default=[]))
except ValueError as exc:
    raise ImproperlyConfigured(f"MAILBOX_URLS: {exc}") from exc
MAILBOX_POLL_SECONDS = env.int("MAILBOX_POLL_SECONDS", default=60)
# Limits, beyond which a message is quarantined (its raw bytes kept) instead of registered.
# The whole message is filed in the GED as an .eml: the default follows the GED's own limit.
MAILBOX_MAX_MESSAGE_SIZE = env.int("MAILBOX_MAX_MESSAGE_SIZE", default=GED_MAX_UPLOAD_SIZE)
MAILBOX_MAX_PARTS = env.int("MAILBOX_MAX_PARTS", default=200)
MAILBOX_MAX_DEPTH = env.int("MAILBOX_MAX_DEPTH", default=12)
# Messages taken per run and per mailbox, fetched this many at a time; a run stops taking new
# ones after MAILBOX_RUN_SECONDS, well within the task's time limit.
MAILBOX_BATCH_SIZE = env.int("MAILBOX_BATCH_SIZE", default=1000)
# A batch is fetched, registered in one transaction and moved to the archive folder with one
# MOVE: at most MAILBOX_FETCH_CHUNK messages and MAILBOX_FETCH_BYTES bytes (memory of a worker).
MAILBOX_FETCH_CHUNK = env.int("MAILBOX_FETCH_CHUNK", default=200)
MAILBOX_FETCH_BYTES = env.int("MAILBOX_FETCH_BYTES", default=64 * 1024 * 1024)
MAILBOX_RUN_SECONDS = env.int(
    "MAILBOX_RUN_SECONDS", default=min(240, CELERY_TASK_SOFT_TIME_LIMIT // 2)
)
MAILBOX_IMAP_TIMEOUT = env.int("MAILBOX_IMAP_TIMEOUT", default=30)
# A message whose processing fails this many times (a bug, not an outage) is quarantined.
MAILBOX_MAX_ATTEMPTS = env.int("MAILBOX_MAX_ATTEMPTS", default=3)
# The inactive account shown as having registered what the mailbox delivers.
MAILBOX_ROBOT_USERNAME = env.str("MAILBOX_ROBOT_USERNAME", default="boite-mail")
for _name in ("POLL_SECONDS", "MAX_MESSAGE_SIZE", "MAX_PARTS", "MAX_DEPTH", "BATCH_SIZE",
              "FETCH_CHUNK", "FETCH_BYTES", "RUN_SECONDS", "IMAP_TIMEOUT",
              "MAX_ATTEMPTS"):  # fmt: skip
    if globals()[f"MAILBOX_{_name}"] <= 0:
        raise ImproperlyConfigured(f"MAILBOX_{_name} must be a positive number.")
CELERY_BEAT_SCHEDULE["mailbox-poll"] = {
    "task": "email_channel.tasks.poll_mailboxes",
    "schedule": MAILBOX_POLL_SECONDS,
    "options": {"expires": MAILBOX_POLL_SECONDS * 0.9},
}

# --- Redmine bridge (R3, R4, R9) ------------------------------------------------------------
# Without REDMINE_URL and REDMINE_API_KEY the bridge is "not configured": the application works,
# and everything meant for Redmine waits in its outbox tables until it is configured.
# Names (tracker, role, priorities, custom field) are looked up on the server at first use and
# checked by `manage.py redmine_check`; the defaults match Redmine's French default data.
REDMINE_URL = env.str("REDMINE_URL", default="").rstrip("/")
REDMINE_API_KEY = env.str("REDMINE_API_KEY", default="")
if bool(REDMINE_URL) != bool(REDMINE_API_KEY):
    raise ImproperlyConfigured("Set both REDMINE_URL and REDMINE_API_KEY, or neither.")
REDMINE_PROJECT = env.str("REDMINE_PROJECT", default="travaux-gestion")
REDMINE_TRACKER = env.str("REDMINE_TRACKER", default="Assistance")
REDMINE_ARTISAN_ROLE = env.str("REDMINE_ARTISAN_ROLE", default="Développeur")
# The issue custom field carrying each work request's unique reference (redmine_setup).
REDMINE_REFERENCE_FIELD = env.str("REDMINE_REFERENCE_FIELD", default="Référence gérance")
# Our priority (importance, or urgency when urgent) → the name of a Redmine issue priority.
REDMINE_PRIORITIES = env.dict(
    "REDMINE_PRIORITIES",
    default={
        "low": "Bas",
        "normal": "Normal",
        "high": "Haut",
        "urgent": "Urgent",
        "immediate": "Immédiat",
    },
)
_missing_priorities = {"low", "normal", "high", "urgent", "immediate"} - set(REDMINE_PRIORITIES)
if _missing_priorities:
    raise ImproperlyConfigured(
        f"REDMINE_PRIORITIES lacks {sorted(_missing_priorities)} (e.g. low=Bas,normal=Normal,…)."
    )
# Redmine status names that make a work request done here; empty: Redmine's closed statuses.
REDMINE_DONE_STATUSES = env.list("REDMINE_DONE_STATUSES", default=[])
REDMINE_TIMEOUT = env.int("REDMINE_TIMEOUT", default=15)  # seconds, per HTTP request
# Redmine mails the new artisan his login and a generated password.
REDMINE_SEND_ACCOUNT_INFORMATION = env.bool("REDMINE_SEND_ACCOUNT_INFORMATION", default=True)
REDMINE_PULL_SECONDS = env.int("REDMINE_PULL_SECONDS", default=300)
REDMINE_SWEEP_SECONDS = env.int("REDMINE_SWEEP_SECONDS", default=60)
if REDMINE_PULL_SECONDS < 10 or REDMINE_SWEEP_SECONDS < 10:
    raise ImproperlyConfigured("REDMINE_PULL_SECONDS and REDMINE_SWEEP_SECONDS must be >= 10.")
CELERY_BEAT_SCHEDULE.update(
    {
        # Issues updated in Redmine since the last pull, one request per page of 100.
        "redmine-pull-issues": {
            "task": "redmine_bridge.tasks.pull_issues",
            "schedule": REDMINE_PULL_SECONDS,
            "options": {"expires": REDMINE_PULL_SECONDS * 0.9},
        },
        # Anything still waiting for Redmine is enqueued again: a lost message loses nothing.
        "redmine-sweep-outbox": {
            "task": "redmine_bridge.tasks.sweep_outbox",
            "schedule": REDMINE_SWEEP_SECONDS,
            "options": {"expires": REDMINE_SWEEP_SECONDS * 0.9},
        },
    }
)
