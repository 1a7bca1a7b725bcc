"""The only module that talks to Redmine (python-redmine); everything else calls these functions.

Every function raises one of three errors, so that callers decide without knowing HTTP:
- `NotConfigured`: REDMINE_URL / REDMINE_API_KEY are not set; the caller leaves its row waiting.
- `TransientError`: connection refused, timeout, HTTP 5xx or 429; retry later with backoff.
- `PermanentError`: 401 (bad key), 403, 404, 422 (Redmine's French message), a name that the
  server does not know; recorded on the row and shown to a person until fixed.
Messages are French (gettext), ready to be shown as they are.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from redminelib import Redmine
from redminelib import exceptions as rm_exceptions

logger = logging.getLogger(__name__)

# Names and ids change only when an administrator edits Redmine: look them up once in a while.
LOOKUP_TTL_SECONDS = 600
PAGE_SIZE = 100
SUBJECT_MAX_LENGTH = 255
_LOGIN_FORBIDDEN = re.compile(r"[^a-z0-9_\-@.]")


class RedmineError(Exception):
    """A failure to do something in Redmine; `str()` is a French message for people."""


class NotConfigured(RedmineError):
    def __init__(self, message: str = ""):
        super().__init__(message or _("Redmine is not configured (REDMINE_URL, REDMINE_API_KEY)."))


class TransientError(RedmineError):
    pass


class PermanentError(RedmineError):
    pass


@dataclass(frozen=True)
class Issue:
    id: int
    url: str
    status_name: str
    closed: bool
    updated_on: datetime | None
    reference: str = ""
    assigned_to_id: int | None = None


@dataclass(frozen=True)
class Journal:
    id: int
    notes: str
    created_on: datetime | None
    author: str


@dataclass(frozen=True)
class User:
    id: int
    login: str
    email: str
    locked: bool


@dataclass(frozen=True)
class Lookups:
    """The ids behind the configured names, as the server knows them."""

    project_id: int
    tracker_id: int
    role_id: int
    reference_field_id: int
    priority_ids: dict[str, int]
    closed_status_ids: frozenset[int]


def is_configured() -> bool:
    return bool(settings.REDMINE_URL and settings.REDMINE_API_KEY)


def issue_url(issue_id: int) -> str:
    return f"{settings.REDMINE_URL}/issues/{issue_id}"


# --- Connection and errors -----------------------------------------------------------------
_local = threading.local()


def _redmine() -> Redmine:
    """One python-redmine connection (and its HTTP session) per thread and configuration."""
    if not is_configured():
        raise NotConfigured()
    key = (settings.REDMINE_URL, settings.REDMINE_API_KEY, settings.REDMINE_TIMEOUT)
    cached = getattr(_local, "redmine", None)
    if cached is None or cached[0] != key:
        redmine = Redmine(
            settings.REDMINE_URL,
            key=settings.REDMINE_API_KEY,
            requests={"timeout": settings.REDMINE_TIMEOUT},
        )
        _local.redmine = cached = (key, redmine)
    return cached[1]


@contextlib.contextmanager
def _errors(action: str):
    """Turn what python-redmine and requests raise into our three errors."""
    try:
        yield
    except RedmineError:
        raise
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(
            _("Redmine is unreachable (%(action)s): %(error)s")
            % {"action": action, "error": type(exc).__name__}
        ) from exc
    except rm_exceptions.AuthError as exc:
        raise PermanentError(
            _("Redmine refused the API key (HTTP 401, %(action)s): check REDMINE_API_KEY.")
            % {"action": action}
        ) from exc
    except rm_exceptions.ForbiddenError as exc:
        raise PermanentError(
            _(
                "Redmine forbids this operation (HTTP 403, %(action)s): the API key's user "
                "lacks the permission (an administrator's key is needed)."
            )
            % {"action": action}
        ) from exc
    except rm_exceptions.ValidationError as exc:
        raise PermanentError(
            _("Redmine refused the data (HTTP 422, %(action)s): %(message)s")
            % {"action": action, "message": str(exc)}
        ) from exc
    except rm_exceptions.ResourceNotFoundError as exc:
        raise PermanentError(
            _("Redmine does not know this resource (HTTP 404, %(action)s).") % {"action": action}
        ) from exc
    except (
        rm_exceptions.ServerError,
        rm_exceptions.JSONDecodeError,  # a proxy's HTML error page, a server restarting
        rm_exceptions.ConflictError,  # a concurrent update of the same issue
    ) as exc:
        raise TransientError(
            _("Redmine failed (%(action)s): %(error)s")
            % {"action": action, "error": type(exc).__name__}
        ) from exc
    except rm_exceptions.UnknownError as exc:
        if exc.status_code >= 500 or exc.status_code == 429:
            raise TransientError(
                _("Redmine failed (HTTP %(code)s, %(action)s).")
                % {"code": exc.status_code, "action": action}
            ) from exc
        raise PermanentError(
            _("Redmine answered HTTP %(code)s (%(action)s).")
            % {"code": exc.status_code, "action": action}
        ) from exc
    except rm_exceptions.BaseRedmineError as exc:
        raise PermanentError(
            _("Redmine error (%(action)s): %(error)s") % {"action": action, "error": exc}
        ) from exc


def _parse(value) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


# --- Names → ids -----------------------------------------------------------------------------
_lookups_cache: dict[tuple, tuple[float, Lookups]] = {}


def lookups_clear() -> None:
    _lookups_cache.clear()


def _settings_key() -> tuple:
    return (
        settings.REDMINE_URL,
        settings.REDMINE_API_KEY,
        settings.REDMINE_PROJECT,
        settings.REDMINE_TRACKER,
        settings.REDMINE_ARTISAN_ROLE,
        settings.REDMINE_REFERENCE_FIELD,
        tuple(sorted(settings.REDMINE_PRIORITIES.items())),
        tuple(settings.REDMINE_DONE_STATUSES),
    )


def lookups() -> Lookups:
    """The ids of the configured names, cached a while; PermanentError names what is unknown."""
    key = _settings_key()
    cached = _lookups_cache.get(key)
    if cached and time.monotonic() - cached[0] < LOOKUP_TTL_SECONDS:
        return cached[1]
    problems, found = _resolve()
    if problems:
        raise PermanentError(" ".join(problems))
    _lookups_cache[key] = (time.monotonic(), found)
    return found


def _resolve() -> tuple[list[str], Lookups | None]:
    redmine = _redmine()
    problems: list[str] = []
    with _errors(_("reading the configuration")):
        try:
            project = redmine.project.get(settings.REDMINE_PROJECT, include=["trackers"])
        except rm_exceptions.ResourceNotFoundError:
            problems.append(
                _("The project “%(project)s” does not exist in Redmine (REDMINE_PROJECT).")
                % {"project": settings.REDMINE_PROJECT}
            )
            project = None
        trackers = {t.name: t.id for t in redmine.tracker.all()}
        roles = {r.name: r.id for r in redmine.role.all()}
        priorities = {p.name: p.id for p in redmine.enumeration.filter(resource="issue_priorities")}
        statuses = list(redmine.issue_status.all().values())
        fields = {f["name"]: f for f in redmine.custom_field.all().values()}

    tracker_id = trackers.get(settings.REDMINE_TRACKER)
    if tracker_id is None:
        problems.append(
            _("Unknown tracker “%(name)s” (REDMINE_TRACKER); Redmine has: %(known)s.")
            % {"name": settings.REDMINE_TRACKER, "known": ", ".join(trackers)}
        )
    elif project is not None and tracker_id not in {t.id for t in project.trackers}:
        problems.append(
            _("The tracker “%(name)s” is not enabled in the project “%(project)s”.")
            % {"name": settings.REDMINE_TRACKER, "project": settings.REDMINE_PROJECT}
        )
    role_id = roles.get(settings.REDMINE_ARTISAN_ROLE)
    if role_id is None:
        problems.append(
            _("Unknown role “%(name)s” (REDMINE_ARTISAN_ROLE); Redmine has: %(known)s.")
            % {"name": settings.REDMINE_ARTISAN_ROLE, "known": ", ".join(roles)}
        )
    priority_ids = {}
    for ours, name in settings.REDMINE_PRIORITIES.items():
        if name in priorities:
            priority_ids[ours] = priorities[name]
        else:
            problems.append(
                _("Unknown priority “%(name)s” (REDMINE_PRIORITIES); Redmine has: %(known)s.")
                % {"name": name, "known": ", ".join(priorities)}
            )
    field = fields.get(settings.REDMINE_REFERENCE_FIELD)
    if field is None:
        problems.append(
            _(
                "The issue custom field “%(name)s” (REDMINE_REFERENCE_FIELD) does not exist: "
                "run `manage.py redmine_setup` for the way to create it."
            )
            % {"name": settings.REDMINE_REFERENCE_FIELD}
        )
    elif field.get("customized_type") != "issue":
        problems.append(
            _("The custom field “%(name)s” is not an issue field.") % {"name": field["name"]}
        )
    elif not field.get("is_filter"):
        problems.append(
            _("The field “%(name)s” must be “used as a filter” in Redmine.")
            % {"name": field["name"]}
        )
    elif tracker_id is not None and tracker_id not in {t["id"] for t in field.get("trackers", [])}:
        problems.append(
            _("The field “%(name)s” is not enabled for the tracker “%(tracker)s”.")
            % {"name": field["name"], "tracker": settings.REDMINE_TRACKER}
        )
    # The statuses that make a work request done here: Redmine's closed ones, or those named.
    by_name = {s["name"]: s["id"] for s in statuses}
    if settings.REDMINE_DONE_STATUSES:
        unknown = [n for n in settings.REDMINE_DONE_STATUSES if n not in by_name]
        if unknown:
            problems.append(
                _("Unknown status “%(name)s” (REDMINE_DONE_STATUSES); Redmine has: %(known)s.")
                % {"name": ", ".join(unknown), "known": ", ".join(by_name)}
            )
        done_ids = frozenset(by_name.get(n) for n in settings.REDMINE_DONE_STATUSES)
    else:
        done_ids = frozenset(s["id"] for s in statuses if s.get("is_closed"))
    if problems:
        return problems, None
    return [], Lookups(
        project_id=project.id,
        tracker_id=tracker_id,
        role_id=role_id,
        reference_field_id=field["id"],
        priority_ids=priority_ids,
        closed_status_ids=done_ids,
    )


def _project_field_ids(project) -> list[int]:
    return [f["id"] for f in project.issue_custom_fields.values()]


def check() -> list[str]:
    """Everything wrong with the configuration against the live server (empty: all good)."""
    if not is_configured():
        return [_("Redmine is not configured: set REDMINE_URL and REDMINE_API_KEY.")]
    try:
        with _errors(_("checking the API key")):
            current = _redmine().user.get("current")
        if not getattr(current, "admin", False):
            return [
                _(
                    "The API key belongs to “%(login)s”, who is not a Redmine administrator: "
                    "creating artisans' accounts needs an administrator's key."
                )
                % {"login": current.login}
            ]
        problems, _found = _resolve()
    except RedmineError as exc:
        return [str(exc)]
    return problems


# --- Issues ----------------------------------------------------------------------------------
def _issue(data: dict, closed_status_ids: frozenset[int], reference_field_id: int) -> Issue:
    status = data.get("status") or {}
    reference = next(
        (
            f.get("value") or ""
            for f in data.get("custom_fields", [])
            if f.get("id") == reference_field_id
        ),
        "",
    )
    return Issue(
        id=data["id"],
        url=issue_url(data["id"]),
        status_name=status.get("name", ""),
        closed=status.get("id") in closed_status_ids,
        updated_on=_parse(data.get("updated_on")),
        reference=reference,
        assigned_to_id=(data.get("assigned_to") or {}).get("id"),
    )


def issue_find(*, reference: str) -> Issue | None:
    """The project's issue carrying `reference` in the reference field, whatever its status."""
    found = lookups()
    with _errors(_("looking for the issue")):
        matches = list(
            _redmine()
            .issue.filter(
                project_id=found.project_id,
                status_id="*",
                limit=2,
                **{f"cf_{found.reference_field_id}": reference},
            )
            .values()
        )
    # Checked again here: Redmine ignores a filter on a field that is not "used as a filter",
    # and would then answer with any issue of the project.
    issues = [_issue(data, found.closed_status_ids, found.reference_field_id) for data in matches]
    issues = [issue for issue in issues if issue.reference == reference]
    if len(issues) > 1:
        logger.error("Redmine holds %d issues with reference %s", len(issues), reference)
    return min(issues, key=lambda issue: issue.id) if issues else None


def issue_create(
    *,
    reference: str,
    subject: str,
    description: str,
    priority: str,
    assigned_to_id: int | None = None,
) -> Issue:
    """Create the issue in the configured project and tracker, carrying `reference`."""
    found = lookups()
    fields = {
        "project_id": found.project_id,
        "tracker_id": found.tracker_id,
        "subject": subject[:SUBJECT_MAX_LENGTH],
        "description": description,
        "priority_id": found.priority_ids[priority],
        "custom_fields": [{"id": found.reference_field_id, "value": reference}],
    }
    if assigned_to_id:
        fields["assigned_to_id"] = assigned_to_id
    with _errors(_("creating the issue")):
        issue = _redmine().issue.create(**fields)
        status = issue.status
    return Issue(
        id=issue.id,
        url=issue_url(issue.id),
        status_name=status.name,
        closed=status.id in found.closed_status_ids,
        updated_on=None,
        reference=reference,
        assigned_to_id=assigned_to_id,
    )


def issues_updated_since(since: datetime | None) -> Iterator[Issue]:
    """The project's issues updated at or after `since`, oldest change first, by pages of 100."""
    found = lookups()
    filters = {
        "project_id": found.project_id,
        "status_id": "*",
        "sort": "updated_on:asc,id:asc",
    }
    if since is not None:
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        filters["updated_on"] = f">={stamp}"
    with _errors(_("reading the updated issues")):
        # Without `limit` (which python-redmine takes as a total), a ResourceSet reads every
        # issue, one page of PAGE_SIZE (python-redmine's own page size) per request.
        for data in _redmine().issue.filter(**filters).values():
            yield _issue(data, found.closed_status_ids, found.reference_field_id)


def issue_journals(*, issue_id: int) -> list[Journal]:
    """The issue's journals that carry a note, oldest first."""
    with _errors(_("reading the issue's notes")):
        issue = _redmine().issue.get(issue_id, include=["journals"])
        raw = list(issue.journals.values())
    return [
        Journal(
            id=j["id"],
            notes=j.get("notes") or "",
            created_on=_parse(j.get("created_on")),
            author=(j.get("user") or {}).get("name", ""),
        )
        # An attachment upload adds a journal with empty notes.
        for j in raw
        if j.get("notes")
    ]


def issue_assign(*, issue_id: int, assigned_to_id: int) -> None:
    with _errors(_("assigning the issue")):
        _redmine().issue.update(issue_id, assigned_to_id=assigned_to_id)


def issue_note_add(*, issue_id: int, text: str) -> None:
    with _errors(_("adding a note to the issue")):
        _redmine().issue.update(issue_id, notes=text)


# --- Users -----------------------------------------------------------------------------------
def login_for(email: str) -> str:
    """A Redmine login from an email (letters, digits, _ - @ . only; at most 60 characters)."""
    return _LOGIN_FORBIDDEN.sub("_", email.strip().lower())[:60]


def user_find(*, email: str, login: str) -> User | None:
    """The Redmine user with this email or this login, locked ones included."""
    wanted_email, wanted_login = email.strip().lower(), login.lower()
    with _errors(_("looking for the user")):
        # `name` matches login, names and email; `status=""` includes locked users.
        candidates = list(_redmine().user.filter(name=email.strip(), status="").values())
        if wanted_login != wanted_email:
            candidates += list(_redmine().user.filter(name=login, status="").values())
    for exact in (
        lambda u: (u.get("mail") or "").lower() == wanted_email,
        lambda u: (u.get("login") or "").lower() == wanted_login,
    ):
        for data in candidates:
            if exact(data):
                status = data.get("status")
                if status is None:  # not in every version's list: read the user
                    with _errors(_("looking for the user")):
                        status = getattr(_redmine().user.get(data["id"]), "status", 1)
                return User(
                    id=data["id"],
                    login=data.get("login", ""),
                    email=data.get("mail", ""),
                    locked=status == 3,
                )
    return None


def user_create(*, login: str, firstname: str, lastname: str, email: str) -> User:
    with _errors(_("creating the user")):
        user = _redmine().user.create(
            login=login,
            firstname=firstname[:30],
            lastname=lastname[:255],
            mail=email,
            generate_password=True,
            send_information=settings.REDMINE_SEND_ACCOUNT_INFORMATION,
        )
    return User(id=user.id, login=login, email=email, locked=False)


def user_unlock(*, user_id: int) -> None:
    with _errors(_("unlocking the user")):
        _redmine().user.update(user_id, status=1)


def user_lock(*, user_id: int) -> None:
    with _errors(_("locking the user")):
        _redmine().user.update(user_id, status=3)


def membership_ensure(*, user_id: int) -> int:
    """Make the user a member of the project with the artisan role; the membership's id."""
    found = lookups()
    redmine = _redmine()
    with _errors(_("making the user a member of the project")):
        user = redmine.user.get(user_id, include=["memberships"])
        for membership in user.memberships.values():
            if (membership.get("project") or {}).get("id") != found.project_id:
                continue
            role_ids = [r["id"] for r in membership.get("roles", []) if not r.get("inherited")]
            if found.role_id not in role_ids:
                redmine.project_membership.update(
                    membership["id"], role_ids=[*role_ids, found.role_id]
                )
            return membership["id"]
        created = redmine.project_membership.create(
            project_id=found.project_id, user_id=user_id, role_ids=[found.role_id]
        )
        return created.id


# --- Set-up ----------------------------------------------------------------------------------
def project_setup() -> list[str]:
    """Create the project if missing and enable the tracker and the reference field in it.

    Returns what was done (French). The REST API cannot create a custom field: when the reference
    field is missing, PermanentError says how to create it.
    """
    redmine = _redmine()
    done: list[str] = []
    with _errors(_("setting up Redmine")):
        trackers = {t.name: t.id for t in redmine.tracker.all()}
        fields = {f["name"]: f for f in redmine.custom_field.all().values()}
        tracker_id = trackers.get(settings.REDMINE_TRACKER)
        if tracker_id is None:
            raise PermanentError(
                _("Unknown tracker “%(name)s” (REDMINE_TRACKER); Redmine has: %(known)s.")
                % {"name": settings.REDMINE_TRACKER, "known": ", ".join(trackers)}
            )
        field = fields.get(settings.REDMINE_REFERENCE_FIELD)
        if field is None:
            raise PermanentError(
                _(
                    "Create the issue custom field “%(name)s” in Redmine (Administration › "
                    "Custom fields › Issues): format Text, used as a filter, for all projects, "
                    "for the tracker “%(tracker)s”; then run this command again. (The REST API "
                    "cannot create custom fields; scripts/redmine.sh does it for test servers.)"
                )
                % {"name": settings.REDMINE_REFERENCE_FIELD, "tracker": settings.REDMINE_TRACKER}
            )
        include = ["trackers", "issue_custom_fields"]
        try:
            project = redmine.project.get(settings.REDMINE_PROJECT, include=include)
        except rm_exceptions.ResourceNotFoundError:
            project = redmine.project.create(
                name=settings.REDMINE_PROJECT.replace("-", " "),
                identifier=settings.REDMINE_PROJECT,
                tracker_ids=[tracker_id],
                enabled_module_names=["issue_tracking"],
                issue_custom_field_ids=[field["id"]],
            )
            done.append(_("Project “%(project)s” created.") % {"project": project.identifier})
            project = redmine.project.get(settings.REDMINE_PROJECT, include=include)
        tracker_ids = [t.id for t in project.trackers]
        if tracker_id not in tracker_ids:
            redmine.project.update(project.id, tracker_ids=[*tracker_ids, tracker_id])
            done.append(
                _("Tracker “%(name)s” enabled in the project.") % {"name": settings.REDMINE_TRACKER}
            )
        field_ids = _project_field_ids(project)
        if field["id"] not in field_ids:
            redmine.project.update(project.id, issue_custom_field_ids=[*field_ids, field["id"]])
            done.append(_("Field “%(name)s” enabled in the project.") % {"name": field["name"]})
    lookups_clear()
    return done
