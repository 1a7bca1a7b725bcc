"""Fixtures of the Redmine bridge: a real Redmine (scripts/redmine.sh), or a fake client.

Integration tests use the real Redmine that `make test` starts (REDMINE_URL, REDMINE_API_KEY,
REDMINE_PORT in its environment). Without it they fail with a message saying how to start it:
they are never skipped. Unit tests replace `redmine_bridge.client` with `FakeRedmine`.
"""

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from accounts.roles import Role
from contacts import services as contacts_services
from redmine_bridge import client
from tests.factories import ArtisanFactory, DossierFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "redmine.sh"


def redmine_port() -> str:
    return os.environ.get("REDMINE_PORT", "")


def redmine_script(command: str) -> None:
    """Run scripts/redmine.sh on this run's port (start, stop…)."""
    result = subprocess.run(
        [str(SCRIPT), command, redmine_port()], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"scripts/redmine.sh {command} failed:\n{result.stderr}"


@pytest.fixture(scope="session")
def redmine_server():
    """The real Redmine of this run, up and set up for the bridge; fails clearly when absent."""
    url, key = os.environ.get("REDMINE_URL"), os.environ.get("REDMINE_API_KEY")
    if not (url and key and redmine_port()):
        pytest.fail(
            "REDMINE_URL, REDMINE_API_KEY and REDMINE_PORT are not set: run the tests with "
            "`make test`, which starts a real Redmine with scripts/redmine.sh."
        )
    try:
        requests.get(f"{url}/login", timeout=5).raise_for_status()
    except requests.RequestException:
        # Started by make test; started again here when a run stopped it (the outage test).
        redmine_script("start")
    try:
        requests.get(f"{url}/login", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"Redmine does not answer on {url} ({exc}); see scripts/redmine.sh start.")
    return {"url": url, "key": key}


_SET_UP: set[str] = set()


@pytest.fixture
def redmine(redmine_server, settings):
    """Settings pointing at the real Redmine, its names resolved afresh, the project set up."""
    settings.REDMINE_URL = redmine_server["url"]
    settings.REDMINE_API_KEY = redmine_server["key"]
    client.lookups_clear()
    if redmine_server["url"] not in _SET_UP:
        client.project_setup()  # idempotent: enables the reference field in the project
        _SET_UP.add(redmine_server["url"])
    yield client._redmine()
    client.lookups_clear()


@pytest.fixture
def not_configured(settings):
    settings.REDMINE_URL = ""
    settings.REDMINE_API_KEY = ""
    client.lookups_clear()


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """These tests create many users (personas, dossiers' gestionnaires)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def unique_email(prefix: str = "artisan") -> str:
    # The Redmine database outlives test runs: an email seen before would find an old user.
    return f"{prefix}-{uuid.uuid4().hex[:10]}@exemple.fr"


@pytest.fixture
def approved_artisan(db, direction, gestionnaire):
    """`approved_artisan(**fields)`: a technical intervenant approved by the direction."""

    def make(**fields):
        fields.setdefault("email", unique_email())
        artisan = ArtisanFactory(**fields)
        contacts_services.artisan_propose(intervenant=artisan, by=gestionnaire)
        return contacts_services.artisan_approve(intervenant=artisan, by=direction)

    return make


@pytest.fixture
def dossier(db, gestionnaire):
    return DossierFactory(gestionnaire=gestionnaire)


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record the pushes enqueued after commit instead of sending them to the broker."""
    from redmine_bridge import tasks

    sent = []
    for name in ("push_work_request", "push_issue_note", "push_artisan_account"):
        task = getattr(tasks, name)
        monkeypatch.setattr(
            task, "delay", lambda pk, _name=name: sent.append((_name, pk)), raising=False
        )
    return sent


@pytest.fixture
def make_work_request(dossier, gestionnaire, approved_artisan, no_enqueue):
    """`make_work_request(**fields)`: a work request recorded through the service."""
    from redmine_bridge import services

    def make(**fields):
        fields.setdefault("dossier", dossier)
        if "artisan" not in fields:
            fields["artisan"] = approved_artisan()
        fields.setdefault("description", "Fuite sous l'évier de la cuisine\nÀ réparer vite.")
        fields.setdefault("place", "Appartement 3, 2e étage")
        fields.setdefault("requested_by", gestionnaire)
        return services.work_request_create(**fields)

    return make


class FakeRedmine:
    """A stand-in for `redmine_bridge.client` in unit tests: issues, users, notes in memory."""

    def __init__(self):
        self.issues: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.memberships: dict[int, int] = {}
        self.calls: list[str] = []
        self.fail_with: client.RedmineError | None = None
        self.closed: set[int] = set()

    def _call(self, name):
        self.calls.append(name)
        if self.fail_with is not None:
            raise self.fail_with

    def _issue(self, pk):
        data = self.issues[pk]
        return client.Issue(
            id=pk,
            url=f"http://redmine.test/issues/{pk}",
            status_name="Fermé" if pk in self.closed else "Nouveau",
            closed=pk in self.closed,
            updated_on=data["updated_on"],
            reference=data["reference"],
            assigned_to_id=data["assigned_to_id"],
        )

    def issue_find(self, *, reference):
        self._call("issue_find")
        for pk, data in self.issues.items():
            if data["reference"] == reference:
                return self._issue(pk)
        return None

    def issue_create(self, *, reference, subject, description, priority, assigned_to_id=None):
        self._call("issue_create")
        pk = len(self.issues) + 1
        self.issues[pk] = {
            "reference": reference,
            "subject": subject,
            "description": description,
            "priority": priority,
            "assigned_to_id": assigned_to_id,
            "notes": [],
            "updated_on": timezone.now(),
        }
        return self._issue(pk)

    def issues_updated_since(self, since):
        self._call("issues_updated_since")
        for pk in sorted(self.issues):
            if since is None or self.issues[pk]["updated_on"] >= since:
                yield self._issue(pk)

    def issue_journals(self, *, issue_id):
        self._call("issue_journals")
        return [
            client.Journal(id=i, notes=text, created_on=None, author="x")
            for i, text in enumerate(self.issues[issue_id]["notes"], 1)
        ]

    def issue_assign(self, *, issue_id, assigned_to_id):
        self._call("issue_assign")
        self.issues[issue_id]["assigned_to_id"] = assigned_to_id

    def issue_note_add(self, *, issue_id, text):
        self._call("issue_note_add")
        self.issues[issue_id]["notes"].append(text)

    def user_find(self, *, email, login):
        self._call("user_find")
        for pk, data in self.users.items():
            if data["email"] == email:
                return client.User(id=pk, login=data["login"], email=email, locked=data["locked"])
        return None

    def user_create(self, *, login, firstname, lastname, email):
        self._call("user_create")
        pk = len(self.users) + 100
        self.users[pk] = {"login": login, "email": email, "locked": False}
        return client.User(id=pk, login=login, email=email, locked=False)

    def user_unlock(self, *, user_id):
        self._call("user_unlock")
        self.users[user_id]["locked"] = False

    def user_lock(self, *, user_id):
        self._call("user_lock")
        self.users[user_id]["locked"] = True

    def membership_ensure(self, *, user_id):
        self._call("membership_ensure")
        return self.memberships.setdefault(user_id, 500 + user_id)


@pytest.fixture
def fake_redmine(monkeypatch, settings):
    """Replace the functions of `redmine_bridge.client` that talk to Redmine (unit tests)."""
    settings.REDMINE_URL = "http://redmine.test"
    settings.REDMINE_API_KEY = "k" * 40
    fake = FakeRedmine()
    for name in (
        "issue_find",
        "issue_create",
        "issues_updated_since",
        "issue_journals",
        "issue_assign",
        "issue_note_add",
        "user_find",
        "user_create",
        "user_unlock",
        "user_lock",
        "membership_ensure",
    ):
        monkeypatch.setattr(client, name, getattr(fake, name))
    return fake


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="norole", roles=[])


__all__ = ["Role", "redmine_script", "unique_email"]
