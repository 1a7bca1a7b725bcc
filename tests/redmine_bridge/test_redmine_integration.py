"""Against the real Redmine: push, no duplicate, errors, statuses, notes, artisans."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from redminelib import Redmine

from redmine_bridge import client, services
from redmine_bridge.models import ArtisanAccount, IssueNote, SyncCursor, WorkRequest, claim_lease
from tests.redmine_bridge.conftest import unique_email

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """The worker dies here (SIGKILL): nothing after this line runs, no handler catches it."""


def _issues_with(redmine, work_request) -> list:
    field_id = client.lookups().reference_field_id
    return list(
        redmine.issue.filter(
            project_id=client.lookups().project_id,
            status_id="*",
            **{f"cf_{field_id}": str(work_request.reference)},
        )
    )


def _push(work_request) -> services.Outcome:
    outcome = services.work_request_push(work_request_id=work_request.pk)
    work_request.refresh_from_db()
    return outcome


def test_it_pushes_a_work_request_and_links_the_issue(redmine, make_work_request):
    work_request = make_work_request(priority="high", urgency="urgent")

    assert _push(work_request).done

    issue = redmine.issue.get(work_request.redmine_issue_id)
    assert work_request.redmine_url == f"{client.issue_url(issue.id)}"
    assert work_request.redmine_status == "Nouveau"
    assert issue.project.id == client.lookups().project_id
    assert issue.tracker.name == "Assistance"
    assert issue.priority.name == "Urgent"  # the urgency wins over the importance
    assert issue.subject.startswith(f"[{work_request.dossier.reference}] Fuite sous l'évier")
    assert "Appartement 3, 2e étage" in issue.description
    assert str(work_request.reference) in issue.description
    account = ArtisanAccount.objects.get(intervenant=work_request.artisan)
    assert issue.assigned_to.id == account.redmine_user_id
    assert [i.id for i in _issues_with(redmine, work_request)] == [issue.id]


def test_it_makes_one_issue_when_the_worker_died_after_redmine_created_it(
    redmine, make_work_request, monkeypatch
):
    """The issue is created, our process killed before storing its id, the task run again."""
    work_request = make_work_request()
    real_pushed = services._pushed

    def killed_before_storing_the_issue(model, pk, **fields):
        if model is WorkRequest:
            raise Killed
        return real_pushed(model, pk, **fields)  # the artisan's account is stored

    with monkeypatch.context() as patch:
        patch.setattr(services, "_pushed", killed_before_storing_the_issue)
        with pytest.raises(Killed):
            services.work_request_push(work_request_id=work_request.pk)
    work_request.refresh_from_db()
    assert work_request.redmine_issue_id is None and work_request.claimed_at is not None
    assert len(_issues_with(redmine, work_request)) == 1

    # Too early: the claim of the (dead) worker still holds.
    assert not _push(work_request).done
    # After the lease, the sweep's message runs the push again: it finds the issue.
    with time_machine.travel(timezone.now() + claim_lease() + timedelta(seconds=1)):
        assert _push(work_request).done
        assert not _push(work_request).done  # and a third run does nothing

    issues = _issues_with(redmine, work_request)
    assert [i.id for i in issues] == [work_request.redmine_issue_id]


def test_an_issue_found_after_a_lost_answer_is_assigned_to_the_artisan_given_since(
    redmine, make_work_request, approved_artisan, gestionnaire, monkeypatch
):
    """R3: the issue was created for an artisan revoked since; the work request went to another."""
    work_request = make_work_request()
    real_pushed = services._pushed

    def killed_before_storing_the_issue(model, pk, **fields):
        if model is WorkRequest:
            raise Killed
        return real_pushed(model, pk, **fields)

    with monkeypatch.context() as patch:
        patch.setattr(services, "_pushed", killed_before_storing_the_issue)
        with pytest.raises(Killed):
            services.work_request_push(work_request_id=work_request.pk)
    WorkRequest.objects.filter(pk=work_request.pk).update(claimed_at=None)  # lease over
    other = approved_artisan()
    services.work_request_reassign(work_request=work_request, artisan=other, by=gestionnaire)

    assert _push(work_request).done

    [issue] = _issues_with(redmine, work_request)
    account = ArtisanAccount.objects.get(intervenant=other)
    assert issue.id == work_request.redmine_issue_id
    assert redmine.issue.get(issue.id).assigned_to.id == account.redmine_user_id


def test_it_records_a_bad_api_key_then_pushes_once_it_is_fixed(
    redmine, make_work_request, settings, capsys
):
    good_key = settings.REDMINE_API_KEY
    work_requests = [make_work_request() for _ in range(3)]
    settings.REDMINE_API_KEY = "f" * 40
    client.lookups_clear()

    for work_request in work_requests:
        assert not _push(work_request).done
        assert work_request.push_state == "failed"
        assert "HTTP 401" in work_request.last_error
        assert "REDMINE_API_KEY" in work_request.last_error
    with pytest.raises(Exception, match="configuration KO"):
        call_command("redmine_check")
    assert "HTTP 401" in capsys.readouterr().err

    settings.REDMINE_API_KEY = good_key
    call_command("redmine_check")  # all good: what was refused waits again
    assert "work_requests': 3" in capsys.readouterr().out
    for work_request in work_requests:
        assert _push(work_request).done
        assert len(_issues_with(redmine, work_request)) == 1


def test_it_records_redmines_french_validation_message(redmine, make_work_request):
    """HTTP 422: the issue cannot be assigned to a user who is not a member of the project."""
    outsider = redmine.user.create(
        login=unique_email("outsider"),
        firstname="Jean",
        lastname="Dehors",
        mail=unique_email("outsider"),
        generate_password=True,
    )
    work_request = make_work_request()
    ArtisanAccount.objects.filter(intervenant=work_request.artisan).update(
        pushed_at=timezone.now(), redmine_user_id=outsider.id, redmine_membership_id=1
    )

    assert not _push(work_request).done

    assert work_request.push_state == "failed"
    assert "HTTP 422" in work_request.last_error
    assert "Assigné à" in work_request.last_error  # Redmine's own French message
    assert _issues_with(redmine, work_request) == []


def test_it_pulls_a_closed_issue_back_as_done_with_the_last_note(redmine, make_work_request):
    work_request = make_work_request()
    _push(work_request)
    services.issues_pull()  # the cursor catches up with what is already there
    redmine.issue.update(work_request.redmine_issue_id, notes="Devis accepté, passage lundi.")
    redmine.issue.update(
        work_request.redmine_issue_id, status_id=5, notes="Fuite réparée, joint changé."
    )
    assert redmine.issue.get(work_request.redmine_issue_id).status.name == "Fermé"

    counts = services.issues_pull()

    work_request.refresh_from_db()
    assert counts["done"] == 1, (
        counts,
        work_request.redmine_status,
        SyncCursor.objects.values().get(),
    )
    assert work_request.done_at is not None
    assert work_request.redmine_status == "Fermé"
    assert work_request.last_note == "Fuite réparée, joint changé."
    assert work_request.synced_at is not None
    # Run twice, one effect.
    done_at = work_request.done_at
    assert services.issues_pull()["done"] == 0
    work_request.refresh_from_db()
    assert work_request.done_at == done_at


def test_the_statuses_that_mean_done_are_a_setting(redmine, make_work_request, settings):
    settings.REDMINE_DONE_STATUSES = ["Résolu"]
    client.lookups_clear()
    work_request = make_work_request()
    _push(work_request)
    services.issues_pull()
    redmine.issue.update(work_request.redmine_issue_id, status_id=3, notes="Réparé.")  # Résolu

    assert services.issues_pull()["done"] == 1
    work_request.refresh_from_db()
    assert (work_request.redmine_status, work_request.last_note) == ("Résolu", "Réparé.")


def test_the_check_names_an_unknown_done_status(redmine, settings, capsys):
    settings.REDMINE_DONE_STATUSES = ["Terminé"]
    client.lookups_clear()

    with pytest.raises(Exception, match="configuration KO"):
        call_command("redmine_check")

    error = capsys.readouterr().err
    assert "Terminé" in error and "REDMINE_DONE_STATUSES" in error and "Résolu" in error


def test_it_reads_updated_issues_one_page_at_a_time(redmine, make_work_request, monkeypatch):
    for _ in range(3):
        _push(make_work_request())
    requests_made = []
    engine = redmine.engine
    original = engine.request

    def counting(method, url, *args, **kwargs):
        requests_made.append((method, url))
        return original(method, url, *args, **kwargs)

    monkeypatch.setattr(engine, "request", counting)
    since = timezone.now() - timedelta(hours=1)
    issues = list(client.issues_updated_since(since))

    assert len(issues) >= 3
    pages = -(-len(issues) // client.PAGE_SIZE)
    assert [m for m, url in requests_made if "/issues.json" in url] == ["get"] * pages
    assert len(requests_made) == pages


def test_an_approved_artisan_gets_his_redmine_account_and_membership(
    redmine, approved_artisan, django_capture_on_commit_callbacks, no_enqueue
):
    email = unique_email()
    with django_capture_on_commit_callbacks(execute=True):
        artisan = approved_artisan(name="Jean Plombier", email=email)
    account = ArtisanAccount.objects.get(intervenant=artisan)  # asked for by the signal
    assert ("push_artisan_account", account.pk) in no_enqueue

    assert services.artisan_account_push(account_id=account.pk).done
    assert not services.artisan_account_push(account_id=account.pk).done  # run twice

    account.refresh_from_db()
    user = redmine.user.get(account.redmine_user_id, include=["memberships"])
    assert (user.mail, user.login, user.firstname, user.lastname) == (
        email,
        email,
        "Jean",
        "Plombier",
    )
    memberships = [m for m in user.memberships if m.project.id == client.lookups().project_id]
    assert [[r.name for r in m.roles] for m in memberships] == [["Développeur"]]
    assert memberships[0].id == account.redmine_membership_id
    assert len(list(redmine.user.filter(name=email, status=""))) == 1


def test_a_revoked_artisan_is_locked_in_redmine_and_unlocked_when_approved_again(
    redmine, approved_artisan, direction, django_capture_on_commit_callbacks, no_enqueue
):
    """R3 against the real Redmine: revoking locks the user; approving again unlocks him."""
    from contacts import services as contacts_services

    with django_capture_on_commit_callbacks(execute=True):
        artisan = approved_artisan(email=unique_email())
    account = ArtisanAccount.objects.get(intervenant=artisan)
    assert services.artisan_account_push(account_id=account.pk).done
    account.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons")
    assert services.artisan_account_push(account_id=account.pk).done
    assert redmine.user.get(account.redmine_user_id).status == 3  # locked

    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_propose(intervenant=artisan, by=direction)
        contacts_services.artisan_approve(intervenant=artisan, by=direction)
    assert services.artisan_account_push(account_id=account.pk).done
    assert redmine.user.get(account.redmine_user_id).status == 1  # active again
    account.refresh_from_db()
    assert account.locked_at is None


def test_it_links_an_artisan_who_already_has_a_redmine_user(redmine, approved_artisan):
    email = unique_email()
    existing = redmine.user.create(
        login=f"ancien-{email.split('@')[0]}",
        firstname="Ancien",
        lastname="Compte",
        mail=email,
        generate_password=True,
    )
    redmine.user.update(existing.id, status=3)  # locked, e.g. after an old refusal
    account = services.artisan_account_request(intervenant_id=approved_artisan(email=email).pk)

    assert services.artisan_account_push(account_id=account.pk).done

    account.refresh_from_db()
    assert account.redmine_user_id == existing.id
    assert redmine.user.get(existing.id).status == 1  # unlocked
    assert len(list(redmine.user.filter(name=email, status=""))) == 1


def test_a_note_appears_once_as_a_journal_even_when_the_answer_was_lost(
    redmine, make_work_request, gestionnaire, monkeypatch
):
    work_request = make_work_request()
    _push(work_request)
    note = services.redmine_note_add(
        work_request=work_request,
        text="Clé de l'appartement 3 remise à l'artisan ce lundi à 9 h.",
        author=gestionnaire,
    )

    with monkeypatch.context() as patch:
        patch.setattr(services, "_pushed", lambda *a, **k: (_ for _ in ()).throw(Killed))
        with pytest.raises(Killed):
            services.issue_note_push(note_id=note.pk)
    with time_machine.travel(timezone.now() + claim_lease() + timedelta(seconds=1)):
        assert services.issue_note_push(note_id=note.pk).done
        assert not services.issue_note_push(note_id=note.pk).done

    journals = client.issue_journals(issue_id=work_request.redmine_issue_id)
    assert len([j for j in journals if str(note.marker) in j.notes]) == 1
    (journal,) = journals
    assert journal.notes.startswith("Clé de l'appartement 3 remise à l'artisan ce lundi à 9 h.")
    assert "Claire Martin" in journal.notes
    assert IssueNote.objects.get(pk=note.pk).push_state == "pushed"


def test_a_note_waits_for_its_issue(redmine, make_work_request, gestionnaire, no_enqueue):
    work_request = make_work_request()
    note = services.redmine_note_add(
        work_request=work_request, text="Clé remise.", author=gestionnaire
    )

    assert not services.issue_note_push(note_id=note.pk).done
    note.refresh_from_db()
    assert (note.push_state, note.attempts) == ("pending", 0)

    _push(work_request)
    assert services.issue_note_push(note_id=note.pk).done


def test_the_check_command_names_what_is_wrong(redmine, settings, capsys):
    settings.REDMINE_TRACKER = "Travaux"
    settings.REDMINE_ARTISAN_ROLE = "Artisan"
    settings.REDMINE_PROJECT = "projet-inconnu"

    with pytest.raises(Exception, match="configuration KO"):
        call_command("redmine_check", "--no-retry")

    err = capsys.readouterr().err
    assert "Travaux" in err
    assert "Artisan" in err
    assert "projet-inconnu" in err


def test_the_setup_command_is_idempotent(redmine, capsys):
    call_command("redmine_setup")
    call_command("redmine_setup")

    assert "Redmine OK" in capsys.readouterr().out


def test_the_check_refuses_a_key_that_is_not_an_administrators(redmine, settings, capsys):
    user = redmine.user.create(
        login=unique_email("simple"),
        firstname="Simple",
        lastname="Utilisateur",
        mail=unique_email("simple"),
        password="Mot-de-passe-123",
    )
    as_user = Redmine(settings.REDMINE_URL, username=user.login, password="Mot-de-passe-123")
    settings.REDMINE_API_KEY = as_user.user.get("current").api_key

    assert any("administrat" in problem for problem in client.check())
