"""The work request pages: who may see and do what, in French, at a constant number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from redmine_bridge import services
from redmine_bridge.models import ArtisanAccount, IssueNote, WorkRequest
from tests.factories import ArtisanFactory

pytestmark = pytest.mark.django_db

LIST = reverse("redmine_bridge:work_request_list")
CREATE = reverse("redmine_bridge:work_request_create")


def _detail(work_request):
    return reverse("redmine_bridge:work_request_detail", args=[work_request.pk])


@pytest.mark.parametrize(
    ("persona", "status"), [("gestionnaire", 200), ("direction", 200), ("legal", 403)]
)
def test_it_shows_the_list_to_gestionnaires_and_the_direction_only(
    request, as_user, persona, status, fake_redmine
):
    response = as_user(request.getfixturevalue(persona)).get(LIST)

    assert response.status_code == status


def test_it_sends_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_waiting_then_the_issue_number_and_link(
    as_user, gestionnaire, make_work_request, fake_redmine
):
    work_request = make_work_request()
    client = as_user(gestionnaire)

    page = client.get(LIST).content.decode()
    assert "en attente" in page

    services.work_request_push(work_request_id=work_request.pk)
    page = client.get(LIST).content.decode()
    assert 'href="http://redmine.test/issues/1"' in page and "#1" in page
    detail = client.get(_detail(work_request)).content.decode()
    assert 'data-redmine-issue="1"' in detail and "Dans Redmine" in detail


def test_it_says_redmine_is_not_configured(as_user, gestionnaire, not_configured):
    page = as_user(gestionnaire).get(LIST).content.decode()

    assert "Redmine non configuré" in page


def test_it_keeps_the_list_at_a_constant_number_of_queries(
    as_user, gestionnaire, make_work_request, fake_redmine, django_assert_max_num_queries
):
    client = as_user(gestionnaire)
    make_work_request()
    client.get(LIST)
    with django_assert_max_num_queries(12) as few:
        client.get(LIST)
    for _ in range(12):
        make_work_request()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)

    assert response.content.decode().count("data-push-state") == 13


def test_it_records_a_work_request_from_the_form(
    as_user, gestionnaire, dossier, approved_artisan, fake_redmine, no_enqueue
):
    artisan = approved_artisan()
    client = as_user(gestionnaire)

    assert (
        f'value="{dossier.pk}" selected'
        in client.get(f"{CREATE}?dossier={dossier.pk}").content.decode()
    )
    response = client.post(
        CREATE,
        {
            "dossier": dossier.pk,
            "artisan": artisan.pk,
            "description": "Volet roulant bloqué",
            "place": "Chambre 2",
            "priority": "high",
            "urgency": "normal",
        },
    )

    work_request = WorkRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(work_request)
    assert (work_request.requested_by, work_request.artisan) == (gestionnaire, artisan)


def test_the_form_refuses_an_unapproved_artisan_in_french(
    as_user, gestionnaire, dossier, fake_redmine
):
    proposed = ArtisanFactory(proposed_at=timezone.now(), proposed_by=gestionnaire)

    response = as_user(gestionnaire).post(
        CREATE,
        {
            "dossier": dossier.pk,
            "artisan": proposed.pk,
            "description": "x",
            "place": "y",
            "priority": "normal",
            "urgency": "normal",
        },
    )

    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not WorkRequest.objects.exists()


def test_it_shows_a_refusal_and_lets_a_gestionnaire_retry(
    as_user, gestionnaire, make_work_request, fake_redmine, no_enqueue
):
    from redmine_bridge import client as redmine_client

    work_request = make_work_request()
    fake_redmine.fail_with = redmine_client.PermanentError(
        "Redmine a refusé la clé d’API (HTTP 401)"
    )
    services.work_request_push(work_request_id=work_request.pk)
    client = as_user(gestionnaire)
    retry = reverse("redmine_bridge:work_request_retry", args=[work_request.pk])

    detail = client.get(_detail(work_request)).content.decode()
    assert "Redmine a refusé la clé d’API (HTTP 401)" in detail
    assert "Renvoyer à Redmine" in detail
    assert "Redmine a refusé 1 demande(s)" in client.get(LIST).content.decode()
    assert client.get(retry).status_code == 405

    response = client.post(retry)

    work_request.refresh_from_db()
    assert response.status_code == 302
    assert work_request.push_state == "pending"


def test_the_direction_sees_the_refusals_and_retries_them_all(
    as_user, direction, make_work_request, fake_redmine, no_enqueue
):
    from redmine_bridge import client as redmine_client

    work_requests = [make_work_request(), make_work_request()]
    fake_redmine.fail_with = redmine_client.PermanentError("refus")
    for work_request in work_requests:
        services.work_request_push(work_request_id=work_request.pk)
    client = as_user(direction)

    response = client.post(reverse("redmine_bridge:retry_all"))

    assert response.status_code == 302
    assert not WorkRequest.objects.filter(failed_at__isnull=False).exists()


def test_a_gestionnaire_confirms_an_oral_exchange_on_the_ticket(
    as_user, gestionnaire, make_work_request, fake_redmine, no_enqueue
):
    work_request = make_work_request()
    services.work_request_push(work_request_id=work_request.pk)
    client = as_user(gestionnaire)
    url = reverse("redmine_bridge:note_add", args=[work_request.pk])

    assert client.get(url).status_code == 405
    assert client.post(url, {"text": "  "}).status_code == 400
    assert not IssueNote.objects.exists()
    response = client.post(url, {"text": "Clé remise à l’artisan."})

    note = IssueNote.objects.get()
    assert response.status_code == 302
    assert note.author == gestionnaire and note.text.endswith("Clé remise à l’artisan.")
    # R9: in the dossier's event log too, with the note's push state.
    event = note.event
    assert (event.dossier, event.work_request, event.recorded_by) == (
        work_request.dossier,
        work_request,
        gestionnaire,
    )
    timeline = reverse("correspondence:dossier_timeline", args=[work_request.dossier.reference])
    page = client.get(timeline).content.decode()
    assert "Clé remise à l’artisan." in page and 'data-push-state="pending"' in page
    assert services.issue_note_push(note_id=note.pk).done
    assert "Clé remise à l’artisan." in fake_redmine.issues[1]["notes"][0]
    assert 'data-push-state="pushed"' in client.get(timeline).content.decode()
    assert "Clé remise à l’artisan." in client.get(_detail(work_request)).content.decode()


def test_the_legal_service_cannot_write_a_note(as_user, legal, make_work_request, fake_redmine):
    work_request = make_work_request()

    response = as_user(legal).post(
        reverse("redmine_bridge:note_add", args=[work_request.pk]), {"text": "x"}
    )

    assert response.status_code == 403
    assert not IssueNote.objects.exists()


def test_the_intervenant_pages_show_the_redmine_account(
    as_user, direction, gestionnaire, approved_artisan, fake_redmine, django_assert_max_num_queries
):
    artisan = approved_artisan()
    account = services.artisan_account_request(intervenant_id=artisan.pk)
    client = as_user(gestionnaire)
    detail = reverse("contacts:intervenant_detail", args=[artisan.pk])

    assert 'data-redmine-registration="pending"' in client.get(detail).content.decode()
    services.artisan_account_push(account_id=account.pk)
    assert 'data-redmine-registration="pushed"' in client.get(detail).content.decode()

    # In the list, the accounts of the whole page are read in one query.
    listing = reverse("contacts:intervenant_list")
    client.get(listing)
    with django_assert_max_num_queries(20) as few:
        client.get(listing)
    for _ in range(5):
        services.artisan_account_request(intervenant_id=approved_artisan().pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(listing).content.decode()
    assert page.count("data-redmine-registration") == 6


def test_the_direction_retries_a_refused_artisan_account(
    as_user, direction, gestionnaire, approved_artisan, fake_redmine, no_enqueue
):
    artisan = approved_artisan(email="")
    account = services.artisan_account_request(intervenant_id=artisan.pk)
    services.artisan_account_push(account_id=account.pk)
    detail = reverse("contacts:intervenant_detail", args=[artisan.pk])
    retry = reverse("redmine_bridge:artisan_account_retry", args=[account.pk])

    page = as_user(direction).get(detail).content.decode()
    assert 'data-redmine-registration="failed"' in page and retry in page
    assert as_user(gestionnaire).post(retry).status_code == 403
    response = as_user(direction).post(retry)

    assert response.status_code == 302
    assert ArtisanAccount.objects.get(pk=account.pk).push_state == "pending"


def _item(dossier, gestionnaire):
    from correspondence import services as correspondence

    return correspondence.item_register(
        channel="letter",
        received_at=timezone.now(),
        sender=dossier.client,
        dossier=dossier,
        subject="Fuite dans la cuisine",
        points=["Fuite sous l'évier", "Robinet qui goutte"],
        assigned_to=gestionnaire,
        by=gestionnaire,
    )


def test_a_work_request_is_asked_from_an_item_with_its_dossier_and_its_request(
    as_user, gestionnaire, dossier, approved_artisan, fake_redmine, no_enqueue
):
    item = _item(dossier, gestionnaire)
    artisan = approved_artisan(name="Plomberie Martin")
    client = as_user(gestionnaire)
    item_page = reverse("correspondence:item", args=[item.pk])
    create = f"{CREATE}?item={item.pk}"

    assert f'href="{create}"' in client.get(item_page).content.decode()
    form = client.get(create).content.decode()
    assert f'value="{dossier.pk}" selected' in form
    assert "Fuite sous l&#x27;évier\nRobinet qui goutte</textarea>" in form
    assert f'name="incoming_item" value="{item.pk}"' in form
    assert "Fuite dans la cuisine" in form  # where the request comes from
    response = client.post(
        create,
        {
            "dossier": dossier.pk,
            "artisan": artisan.pk,
            "description": "Fuite sous l'évier",
            "place": "Cuisine",
            "priority": "normal",
            "urgency": "urgent",
            "incoming_item": item.pk,
        },
    )

    work_request = WorkRequest.objects.get()
    assert response.status_code == 302
    assert work_request.incoming_item == item
    section = client.get(item_page).content.decode().split('id="work-requests"')[1]
    assert "Plomberie Martin" in section and "Fuite sous l&#x27;évier" in section


def test_a_work_request_cannot_be_tied_to_an_item_of_another_dossier(
    as_user, gestionnaire, dossier, approved_artisan, fake_redmine, no_enqueue
):
    from tests.factories import DossierFactory

    item = _item(dossier, gestionnaire)
    other = DossierFactory(gestionnaire=gestionnaire)

    response = as_user(gestionnaire).post(
        f"{CREATE}?item={item.pk}",
        {
            "dossier": other.pk,
            "artisan": approved_artisan().pk,
            "description": "Fuite",
            "place": "Cuisine",
            "priority": "normal",
            "urgency": "normal",
            "incoming_item": item.pk,
        },
    )

    assert response.status_code == 200
    assert "La demande de travaux et l’élément" in response.content.decode()
    assert not WorkRequest.objects.exists()


@pytest.mark.parametrize("model", ["workrequest", "issuenote", "artisanaccount"])
def test_the_admin_shows_the_redmine_rows_without_editing_them(
    as_user, direction, make_work_request, fake_redmine, model
):
    """R3 and R9 live in the services: the admin must not add or change what they check."""
    work_request = make_work_request()
    services.redmine_note_add(work_request=work_request, text="Clé remise.", author=direction)
    row = {
        "workrequest": work_request,
        "issuenote": IssueNote.objects.get(),
        "artisanaccount": ArtisanAccount.objects.get(),
    }[model]
    client = as_user(direction)

    assert client.get(f"/admin/redmine_bridge/{model}/").status_code == 200
    assert client.get(f"/admin/redmine_bridge/{model}/add/").status_code == 403
    change = client.get(f"/admin/redmine_bridge/{model}/{row.pk}/change/")
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()


def test_the_admin_moves_the_pull_cursor_back_only(admin_client):
    """Forward, the next pulls would skip every change in between."""
    from redmine_bridge.models import SyncCursor

    cursor = SyncCursor.objects.create(
        name=services.ISSUES_CURSOR, updated_since=timezone.now(), last_error="Erreur"
    )
    url = f"/admin/redmine_bridge/synccursor/{cursor.pk}/change/"
    local = timezone.localtime(cursor.updated_since)

    def post(moment):
        return admin_client.post(
            url,
            {
                "updated_since_0": f"{moment:%d/%m/%Y}",
                "updated_since_1": f"{moment:%H:%M:%S}",
            },
        )

    forward = post(local + timedelta(days=1))
    assert forward.status_code == 200
    assert "Le curseur ne peut être que reculé" in forward.content.decode()
    assert SyncCursor.objects.get().updated_since == cursor.updated_since

    assert post(local - timedelta(days=30)).status_code == 302
    cursor.refresh_from_db()
    assert cursor.updated_since < timezone.now() - timedelta(days=29)
    assert cursor.last_error == "Erreur"  # the pull's own fields are not the form's
    assert admin_client.get("/admin/redmine_bridge/synccursor/add/").status_code == 403


def test_a_work_request_links_back_to_its_item_and_its_dossier(
    as_user, gestionnaire, dossier, make_work_request, fake_redmine
):
    item = _item(dossier, gestionnaire)
    work_request = make_work_request(incoming_item=item)
    client = as_user(gestionnaire)
    item_page = reverse("correspondence:item", args=[item.pk])
    dossier_page = reverse("contacts:dossier_detail", args=[dossier.pk])

    detail = client.get(_detail(work_request)).content.decode()
    assert f'href="{item_page}"' in detail and "Fuite dans la cuisine" in detail
    listing = client.get(LIST).content.decode()
    assert f'href="{item_page}"' in listing and f'href="{dossier_page}"' in listing
