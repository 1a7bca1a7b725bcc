"""R3: refused or revoked, an artisan's Redmine account is locked; approved again, unlocked."""

import pytest

from contacts import services as contacts_services
from redmine_bridge import services
from redmine_bridge.models import ArtisanAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(approved_artisan, fake_redmine, django_capture_on_commit_callbacks, no_enqueue):
    """An approved artisan whose Redmine account has been created."""
    with django_capture_on_commit_callbacks(execute=True):
        artisan = approved_artisan()
    account = ArtisanAccount.objects.get(intervenant=artisan)
    assert services.artisan_account_push(account_id=account.pk).done
    account.refresh_from_db()
    return artisan, account


def test_a_revoked_artisan_is_locked_in_redmine_and_unlocked_when_approved_again(
    registered,
    fake_redmine,
    direction,
    gestionnaire,
    django_capture_on_commit_callbacks,
    no_enqueue,
):
    artisan, account = registered
    user_id = account.redmine_user_id

    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons")

    account.refresh_from_db()
    assert account.push_state == "pending"
    assert no_enqueue.count(("push_artisan_account", account.pk)) == 2  # approval, revocation
    assert services.artisan_account_push(account_id=account.pk).done
    assert not services.artisan_account_push(account_id=account.pk).done  # once
    account.refresh_from_db()
    assert account.locked_at is not None and account.redmine_user_id == user_id
    assert fake_redmine.users[user_id]["locked"] is True
    assert fake_redmine.calls.count("user_lock") == 1

    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_propose(intervenant=artisan, by=gestionnaire)
        contacts_services.artisan_approve(intervenant=artisan, by=direction)

    assert services.artisan_account_push(account_id=account.pk).done
    account.refresh_from_db()
    assert account.locked_at is None and account.redmine_user_id == user_id
    assert fake_redmine.users[user_id]["locked"] is False


def test_a_refused_artisan_who_never_had_an_account_gets_none(
    fake_redmine, direction, django_capture_on_commit_callbacks, no_enqueue
):
    from tests.factories import ArtisanFactory

    artisan = ArtisanFactory()
    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_refuse(intervenant=artisan, by=direction, reason="Pas de Kbis")

    assert not ArtisanAccount.objects.exists()
    assert no_enqueue == []
    assert "user_lock" not in fake_redmine.calls


def test_a_revocation_during_the_approval_s_push_wins(
    registered, fake_redmine, direction, django_capture_on_commit_callbacks, monkeypatch, no_enqueue
):
    """The push that was unlocking him must not record him as registered once he is revoked."""
    from redmine_bridge import client

    artisan, account = registered
    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons")
        contacts_services.artisan_propose(intervenant=artisan, by=direction)
        contacts_services.artisan_approve(intervenant=artisan, by=direction)
    account.refresh_from_db()
    assert account.push_state == "pending"

    def revoked_meanwhile(*, user_id):
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Finalement non")
        return 500 + user_id

    monkeypatch.setattr(client, "membership_ensure", revoked_meanwhile)
    assert not services.artisan_account_push(account_id=account.pk).done

    account.refresh_from_db()
    assert account.push_state == "pending" and account.claimed_at is None
    assert services.artisan_account_push(account_id=account.pk).done
    account.refresh_from_db()
    assert account.locked_at is not None
    assert fake_redmine.users[account.redmine_user_id]["locked"] is True


def _sweep(django_capture_on_commit_callbacks) -> dict[str, int]:
    with django_capture_on_commit_callbacks(execute=True):
        return services.outbox_sweep()


@pytest.mark.parametrize("signal", ["lost", "failing"])
def test_the_sweep_locks_a_revoked_artisan_whose_signal_did_not_arrive(
    registered,
    fake_redmine,
    direction,
    django_capture_on_commit_callbacks,
    monkeypatch,
    no_enqueue,
    signal,
):
    """The process died after the revocation's commit, or the receiver failed (only logged)."""
    artisan, account = registered
    if signal == "lost":  # on-commit callbacks not run: the signal is never sent
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons")
    else:

        def broken(**kwargs):
            raise RuntimeError("database gone")

        with monkeypatch.context() as patch, django_capture_on_commit_callbacks(execute=True):
            patch.setattr(services, "artisan_account_resync", broken)
            contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons")
    account.refresh_from_db()
    assert account.pushed_at is not None and account.locked_at is None
    no_enqueue.clear()

    counts = _sweep(django_capture_on_commit_callbacks)

    assert counts["resynced_artisan_accounts"] == 1
    assert no_enqueue == [("push_artisan_account", account.pk)]
    assert services.artisan_account_push(account_id=account.pk).done
    account.refresh_from_db()
    assert account.locked_at is not None
    assert fake_redmine.users[account.redmine_user_id]["locked"] is True
    assert _sweep(django_capture_on_commit_callbacks)["resynced_artisan_accounts"] == 0


def test_the_sweep_unlocks_an_artisan_approved_again_whose_signal_was_lost(
    registered, fake_redmine, direction, django_capture_on_commit_callbacks, no_enqueue
):
    artisan, account = registered
    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Malfaçons")
    assert services.artisan_account_push(account_id=account.pk).done
    contacts_services.artisan_propose(intervenant=artisan, by=direction)
    contacts_services.artisan_approve(intervenant=artisan, by=direction)  # signal lost

    assert _sweep(django_capture_on_commit_callbacks)["resynced_artisan_accounts"] == 1
    assert services.artisan_account_push(account_id=account.pk).done
    account.refresh_from_db()
    assert account.locked_at is None
    assert fake_redmine.users[account.redmine_user_id]["locked"] is False


def test_the_sweep_leaves_accounts_that_match_the_approval(
    registered, fake_redmine, direction, django_capture_on_commit_callbacks, no_enqueue
):
    artisan, account = registered  # approved and registered
    from tests.factories import ArtisanFactory

    with django_capture_on_commit_callbacks(execute=True):
        contacts_services.artisan_refuse(
            intervenant=ArtisanFactory(), by=direction, reason="Pas de Kbis"
        )

    assert _sweep(django_capture_on_commit_callbacks)["resynced_artisan_accounts"] == 0
    account.refresh_from_db()
    assert account.pushed_at is not None


def test_the_sweep_repairs_the_accounts_in_a_constant_number_of_queries(
    approved_artisan,
    fake_redmine,
    direction,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
    no_enqueue,
):
    def revoked_without_signal(count):
        for _ in range(count):
            artisan = approved_artisan()
            account = services.artisan_account_request(intervenant_id=artisan.pk)
            assert services.artisan_account_push(account_id=account.pk).done
            contacts_services.artisan_revoke(intervenant=artisan, by=direction, reason="Fini")

    revoked_without_signal(1)
    with django_assert_max_num_queries(100) as one:
        assert _sweep(django_capture_on_commit_callbacks)["resynced_artisan_accounts"] == 1
    revoked_without_signal(5)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert _sweep(django_capture_on_commit_callbacks)["resynced_artisan_accounts"] == 5
