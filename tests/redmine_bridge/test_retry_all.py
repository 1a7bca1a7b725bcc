""" "Send everything refused again": the artisans' accounts are the direction's to retry (R3)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from redmine_bridge import client, services
from redmine_bridge.models import ArtisanAccount, WorkRequest

pytestmark = pytest.mark.django_db

LIST = reverse("redmine_bridge:work_request_list")
RETRY_ALL = reverse("redmine_bridge:retry_all")


@pytest.fixture
def refused(fake_redmine, make_work_request, approved_artisan, no_enqueue):
    """A work request and an artisan's account, both refused by Redmine."""
    account = services.artisan_account_request(intervenant_id=approved_artisan(email="").pk)
    services.artisan_account_push(account_id=account.pk)  # no email: refused
    work_request = make_work_request()
    artisan_account = ArtisanAccount.objects.get(intervenant=work_request.artisan)
    assert services.artisan_account_push(account_id=artisan_account.pk).done
    fake_redmine.fail_with = client.PermanentError("refus")
    services.work_request_push(work_request_id=work_request.pk)
    fake_redmine.fail_with = None
    for row in (account, work_request):
        row.refresh_from_db()
        assert row.push_state == "failed"
    return work_request, account


def test_a_gestionnaire_s_retry_all_leaves_the_artisans_accounts_to_the_direction(
    as_user, gestionnaire, refused, django_capture_on_commit_callbacks, no_enqueue
):
    work_request, account = refused
    client = as_user(gestionnaire)
    page = client.get(LIST).content.decode()
    assert 'id="accounts-direction-only"' in page
    no_enqueue.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RETRY_ALL)

    assert response.status_code == 302
    assert WorkRequest.objects.get(pk=work_request.pk).push_state == "pending"
    assert ArtisanAccount.objects.get(pk=account.pk).push_state == "failed"
    assert no_enqueue == [("push_work_request", work_request.pk)]


def test_the_direction_s_retry_all_includes_the_artisans_accounts(
    as_user, direction, refused, django_capture_on_commit_callbacks, no_enqueue
):
    work_request, account = refused
    client = as_user(direction)
    assert 'id="accounts-direction-only"' not in client.get(LIST).content.decode()
    no_enqueue.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RETRY_ALL)

    assert response.status_code == 302
    assert WorkRequest.objects.get(pk=work_request.pk).push_state == "pending"
    assert ArtisanAccount.objects.get(pk=account.pk).push_state == "pending"
    assert sorted(no_enqueue) == [
        ("push_artisan_account", account.pk),
        ("push_work_request", work_request.pk),
    ]


def test_retry_all_is_post_only_and_refused_without_the_permission(
    as_user, gestionnaire, legal, refused
):
    work_request, account = refused

    assert as_user(gestionnaire).get(RETRY_ALL).status_code == 405
    assert as_user(legal).post(RETRY_ALL).status_code == 403
    with pytest.raises(PermissionDenied):
        services.outbox_retry_failed(by=legal)
    assert WorkRequest.objects.get(pk=work_request.pk).push_state == "failed"
    assert ArtisanAccount.objects.get(pk=account.pk).push_state == "failed"


def test_the_operator_s_check_command_retries_everything(refused, monkeypatch, capsys):
    work_request, account = refused
    monkeypatch.setattr(client, "check", lambda: [])
    monkeypatch.setattr(
        client,
        "lookups",
        lambda: client.Lookups(
            project_id=1,
            tracker_id=1,
            role_id=1,
            reference_field_id=1,
            priority_ids={},
            closed_status_ids=frozenset(),
        ),
    )

    call_command("redmine_check")

    assert WorkRequest.objects.get(pk=work_request.pk).push_state == "pending"
    assert ArtisanAccount.objects.get(pk=account.pk).push_state == "pending"
