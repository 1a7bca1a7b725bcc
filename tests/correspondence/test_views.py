"""The gestionnaire's correspondence pages: roles, forms, refusals in French, query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from correspondence import services
from correspondence.models import Channel, IncomingItem, Kind, Reply, Status
from tests.correspondence.conftest import pdf_file
from tests.factories import DossierFactory, UserFactory

pytestmark = pytest.mark.django_db


def register(by, sender, dossier, **overrides):
    arguments = dict(
        channel=Channel.LETTER,
        received_at=timezone.now() - timedelta(hours=2),
        sender=sender,
        dossier=dossier,
        subject="Succession Dupont",
        points=["Copie du bail", "Dépôt de garantie"],
        assigned_to=dossier.gestionnaire,
        by=by,
    )
    arguments.update(overrides)
    return services.item_register(**arguments)


def form_data(dossier, sender, **overrides):
    data = {
        "channel": "letter",
        "kind": "request",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "sender_intervenant": sender.pk,
        "dossier": dossier.reference,
        "subject": "Succession Dupont",
        "points": "Copie du bail\nMontant du dépôt de garantie\n",
        "assigned_to": dossier.gestionnaire.pk,
        "priority": 2,
        "urgency": 2,
    }
    data.update(overrides)
    return data


URLS = [
    ("get", "/courrier/"),
    ("get", "/courrier/enregistrer/"),
    ("get", "/courrier/{pk}/"),
    ("get", "/courrier/dossier/{reference}/"),
]


@pytest.mark.parametrize(("method", "url"), URLS)
def test_it_sends_anonymous_visitors_to_the_login_page(
    client, gestionnaire, dossier, notary, method, url
):
    item = register(gestionnaire, notary, dossier)

    response = client.get(url.format(pk=item.pk, reference=dossier.reference))

    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


@pytest.mark.parametrize(("method", "url"), URLS)
def test_it_refuses_a_user_without_role(as_user, gestionnaire, dossier, notary, method, url):
    item = register(gestionnaire, notary, dossier)

    response = as_user(UserFactory()).get(url.format(pk=item.pk, reference=dossier.reference))

    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["gestionnaire", "direction", "legal"])
@pytest.mark.parametrize(("method", "url"), URLS)
def test_it_shows_the_pages_to_each_role(
    request, as_user, gestionnaire, dossier, notary, persona, method, url
):
    item = register(gestionnaire, notary, dossier)

    response = as_user(request.getfixturevalue(persona)).get(
        url.format(pk=item.pk, reference=dossier.reference)
    )

    assert response.status_code == 200


@pytest.mark.parametrize("action", ["repondre", "evenement", "attribuer", "traiter", "cloturer"])
def test_its_actions_answer_get_with_405(as_user, gestionnaire, dossier, notary, action):
    item = register(gestionnaire, notary, dossier)

    assert as_user(gestionnaire).get(f"/courrier/{item.pk}/{action}/").status_code == 405


def test_it_registers_a_letter_with_its_scan_from_the_form(as_user, gestionnaire, dossier, notary):
    client = as_user(gestionnaire)

    response = client.post(
        "/courrier/enregistrer/", {**form_data(dossier, notary), "originals": [pdf_file()]}
    )

    item = IncomingItem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/courrier/{item.pk}/"
    assert item.points.count() == 2
    assert item.original_filed_at is not None
    assert item.created_by == gestionnaire


def test_a_scan_uploaded_through_the_ged_lets_the_letter_be_processed(
    as_user, gestionnaire, dossier, notary
):
    from django.contrib.contenttypes.models import ContentType

    item = register(gestionnaire, notary, dossier)
    client = as_user(gestionnaire)
    assert "original-missing" in client.get(f"/courrier/{item.pk}/").content.decode()

    client.post(
        "/documents/ajouter/",
        {
            "owner_type": ContentType.objects.get_for_model(item).pk,
            "owner_id": item.pk,
            "files": [pdf_file()],
        },
    )
    client.post(f"/courrier/{item.pk}/traiter/")

    item.refresh_from_db()
    assert item.status == Status.IN_PROGRESS
    assert item.original_filed_at is not None


def test_it_shows_the_mandate_refusal_in_french_and_registers_nothing(
    as_user, gestionnaire, dossier, stranger
):
    response = as_user(gestionnaire).post("/courrier/enregistrer/", form_data(dossier, stranger))

    assert response.status_code == 200
    error = response.context["form"].errors["sender_intervenant"][0]
    assert "Maître Inconnu" in error and "mandat" in error
    assert IncomingItem.objects.count() == 0


def test_it_refuses_a_bailiffs_act_to_a_gestionnaire_at_the_form(
    as_user, gestionnaire, dossier, notary
):
    data = form_data(dossier, notary, channel="visit", kind="bailiff_act")

    response = as_user(gestionnaire).post("/courrier/enregistrer/", data)

    assert "Seul le service juridique" in response.context["form"].errors["kind"][0]
    assert IncomingItem.objects.count() == 0


def test_it_lets_the_legal_service_register_a_bailiffs_act(as_user, legal, dossier, notary):
    data = form_data(dossier, notary, channel="visit", kind="bailiff_act")

    response = as_user(legal).post("/courrier/enregistrer/", data)

    assert response.status_code == 302
    assert IncomingItem.objects.get().kind == Kind.BAILIFF_ACT


def shown_dossier_token(client, data) -> str:
    """GET the register page with what was typed ("Show the dossier"): its signed proof (R10)."""
    page = client.get("/courrier/enregistrer/", data)
    assert page.context["panel_dossier"].reference == data["dossier"]
    assert page.context["panel_dossier"].property_address in page.content.decode()
    return page.context["form"]["dossier_reviewed"].value()


def test_it_shows_the_dossier_before_an_appointment(as_user, gestionnaire, dossier, notary):
    client = as_user(gestionnaire)
    data = form_data(dossier, notary, channel="visit", kind="appointment")

    refused = client.post("/courrier/enregistrer/", data)
    assert "Consultez le dossier" in refused.context["form"].errors["dossier"][0]
    assert IncomingItem.objects.count() == 0

    # The page shows the dossier; the proof it hands out lets the appointment be registered.
    token = shown_dossier_token(client, data)
    accepted = client.post("/courrier/enregistrer/", {**data, "dossier_reviewed": token})
    assert accepted.status_code == 302
    assert IncomingItem.objects.get().kind == Kind.APPOINTMENT


def tampered(token: str) -> str:
    """`token` with one character of its signature changed."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize(
    "forgery",
    ["absent", "reference", "garbage", "other_dossier", "other_user", "other_salt", "tampered"],
)
def test_it_refuses_an_appointment_without_the_proof_the_dossier_was_shown(
    as_user, gestionnaire, other_gestionnaire, dossier, notary, forgery
):
    from django.core import signing

    client = as_user(gestionnaire)
    data = form_data(dossier, notary, channel="visit", kind="appointment")
    other = DossierFactory(client=dossier.client, gestionnaire=gestionnaire)
    token = {
        "absent": "",
        "reference": dossier.reference,  # what the browser echoed before
        "garbage": "not-a-token",
        "other_dossier": services.dossier_review_token(dossier=other, user=gestionnaire),
        "other_user": services.dossier_review_token(dossier=dossier, user=other_gestionnaire),
        "other_salt": signing.dumps({"dossier": dossier.pk, "user": gestionnaire.pk}),
        "tampered": tampered(services.dossier_review_token(dossier=dossier, user=gestionnaire)),
    }[forgery]

    refused = client.post("/courrier/enregistrer/", {**data, "dossier_reviewed": token})

    assert refused.status_code == 200
    error = refused.context["form"].errors["dossier"][0]
    assert "avant le rendez-vous" in error
    assert IncomingItem.objects.count() == 0


def test_it_refuses_a_proof_older_than_two_hours(as_user, gestionnaire, dossier, notary):
    import time_machine

    client = as_user(gestionnaire)
    data = form_data(dossier, notary, channel="visit", kind="appointment")
    token = shown_dossier_token(client, data)

    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        client.force_login(gestionnaire)
        refused = client.post("/courrier/enregistrer/", {**data, "dossier_reviewed": token})

    assert "plus de deux heures" in refused.context["form"].errors["dossier"][0]
    assert IncomingItem.objects.count() == 0


def test_it_shows_the_dossier_to_the_direction_forcing_an_appointment(
    as_user, direction, dossier, stranger
):
    client = as_user(direction)
    data = form_data(
        dossier,
        stranger,
        channel="visit",
        kind="appointment",
        assigned_to=direction.pk,
        force_reason="Le notaire de la succession, mandat en cours de signature",
    )

    page = client.get("/courrier/enregistrer/", data)
    assert "mandat" in page.context["panel_unmandated"]
    assert 'id="dossier-panel-unmandated"' in page.content.decode()
    accepted = client.post(
        "/courrier/enregistrer/",
        {**data, "dossier_reviewed": page.context["form"]["dossier_reviewed"].value()},
    )

    assert accepted.status_code == 302
    item = IncomingItem.objects.get()
    assert (item.kind, item.forced_by) == (Kind.APPOINTMENT, direction)


def test_the_panel_judges_the_mandate_at_the_reception_time(as_user, gestionnaire, dossier, notary):
    from tests.factories import IntervenantFactory, MandateFactory

    yesterday = timezone.localdate() - timedelta(days=1)
    former = IntervenantFactory(kind="notary", name="Maître Ancien")
    mandate = MandateFactory(
        intervenant=former,
        client=dossier.client,
        valid_from=yesterday - timedelta(days=30),
        valid_until=yesterday,
    )
    from ged.services import document_store

    mandate.proof = document_store(
        file=pdf_file("mandat.pdf"), owner=mandate, added_by=gestionnaire
    )
    mandate.save(update_fields=["proof"])
    client = as_user(gestionnaire)
    typed = {"dossier": dossier.reference, "sender_intervenant": former.pk}

    today = client.get("/courrier/enregistrer/", typed)
    received_yesterday = client.get(
        "/courrier/enregistrer/", {**typed, "received_at": f"{yesterday:%Y-%m-%d}T10:00"}
    )

    assert "panel_refused" in today.context
    assert received_yesterday.context["panel_dossier"] == dossier


def test_it_offers_the_dossiers_client_alone_as_a_client_sender(as_user, gestionnaire, dossier):
    from tests.factories import ClientFactory

    others = ClientFactory.create_batch(30)
    client = as_user(gestionnaire)

    page = client.get("/courrier/enregistrer/", {"dossier": dossier.reference})
    choices = list(page.context["form"].fields["sender_client"].queryset)
    assert choices == [dossier.client]
    assert not any(other.name in page.content.decode() for other in others)
    refused = client.post(
        "/courrier/enregistrer/",
        form_data(dossier, dossier.client, sender_intervenant="", sender_client=others[0].pk),
    )
    assert "Sélectionnez un choix valide" in refused.context["form"].errors["sender_client"][0]
    accepted = client.post(
        "/courrier/enregistrer/",
        form_data(dossier, dossier.client, sender_intervenant="", sender_client=dossier.client.pk),
    )
    assert accepted.status_code == 302
    assert IncomingItem.objects.get().sender == dossier.client


def test_it_marks_the_fields_that_belong_to_some_channels_only(as_user, gestionnaire):
    page = as_user(gestionnaire).get("/courrier/enregistrer/").content.decode()

    assert '<p class="field-tracking_number" data-channels="letter">' in page
    assert '<p class="field-originals" data-channels="letter email">' in page
    assert '<p class="field-kind" data-channels="visit">' in page
    assert '<p class="field-subject">' in page  # every channel


def test_it_hides_the_dossier_from_an_unmandated_sender(as_user, gestionnaire, dossier, stranger):
    response = as_user(gestionnaire).get(
        f"/courrier/enregistrer/?dossier={dossier.reference}&sender_intervenant={stranger.pk}"
    )

    assert "panel_dossier" not in response.context
    assert dossier.property_address not in response.content.decode()
    assert "mandat" in response.context["panel_refused"]


def test_it_hides_the_dossier_on_a_forced_items_page(as_user, direction, dossier, stranger):
    item = register(direction, stranger, dossier, force_reason="Assignation urgente")

    page = as_user(direction).get(f"/courrier/{item.pk}/").content.decode()

    assert "Assignation urgente" in page
    assert dossier.property_address not in page


def test_it_answers_point_by_point_from_the_item_page(as_user, gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier, originals=[pdf_file()])
    points = list(item.points.all())
    data = {
        "via": "letter",
        "dated": timezone.localdate().isoformat(),
        f"answer_{points[0].pk}": "Ci-joint.",
    }
    client = as_user(gestionnaire)

    refused = client.post(f"/courrier/{item.pk}/repondre/", data)
    assert refused.status_code == 400
    assert "point(s) 2" in refused.content.decode()

    accepted = client.post(
        f"/courrier/{item.pk}/repondre/", {**data, f"answer_{points[1].pk}": "800 €."}
    )
    assert accepted.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.ANSWERED
    assert Reply.objects.get().document is not None


def test_it_closes_a_call_after_its_written_confirmation(as_user, gestionnaire, dossier, notary):
    call = register(gestionnaire, notary, dossier, channel=Channel.CALL)
    client = as_user(gestionnaire)

    client.post(f"/courrier/{call.pk}/cloturer/")
    call.refresh_from_db()
    assert call.status == Status.RECEIVED

    client.post(
        f"/courrier/{call.pk}/evenement/",
        {
            "label": "Réception assurance",
            "text": "L'assureur a confirmé.",
            "occurred_at": "2026-11-27T10:00",
        },
    )
    client.post(f"/courrier/{call.pk}/cloturer/")
    call.refresh_from_db()
    assert call.status == Status.CLOSED


def test_the_work_list_shows_my_open_items_by_deadline(
    as_user, gestionnaire, other_gestionnaire, dossier, notary
):
    late = register(
        gestionnaire,
        notary,
        dossier,
        channel=Channel.EMAIL,
        received_at=timezone.now() - timedelta(hours=50),
    )
    soon = register(gestionnaire, notary, dossier, channel=Channel.LETTER)
    register(gestionnaire, notary, dossier, assigned_to=other_gestionnaire)

    response = as_user(gestionnaire).get("/courrier/")

    assert [item.pk for item in response.context["page"]] == [late.pk, soon.pk]
    assert "badge danger" in response.content.decode()


def test_the_work_list_filters_by_channel_and_overdue(as_user, gestionnaire, dossier, notary):
    register(
        gestionnaire,
        notary,
        dossier,
        channel=Channel.EMAIL,
        received_at=timezone.now() - timedelta(hours=50),
    )
    register(gestionnaire, notary, dossier, channel=Channel.LETTER)
    client = as_user(gestionnaire)

    assert len(client.get("/courrier/?channel=letter").context["page"]) == 1
    assert len(client.get("/courrier/?status=overdue").context["page"]) == 1


def test_the_action_list_orders_routine_requests_by_priority(
    as_user, gestionnaire, dossier, notary
):
    low = register(
        gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.ROUTINE, priority=1
    )
    high = register(
        gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.ROUTINE, priority=3
    )

    response = as_user(gestionnaire).get("/courrier/")

    assert [item.pk for item in response.context["actions"]] == [high.pk, low.pk]


def test_the_action_list_links_its_dossiers_and_says_when_there_are_more(
    as_user, gestionnaire, dossier, notary, monkeypatch
):
    from correspondence import views

    monkeypatch.setattr(views, "ACTIONS_SHOWN", 2)
    for _ in range(2):
        register(gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.ROUTINE)
    client = as_user(gestionnaire)
    dossier_url = f'href="/courrier/dossier/{dossier.reference}/"'

    page = client.get("/courrier/").content.decode()
    section = page.split('id="action-list"')[1].split("</section>")[0]
    assert dossier_url in section
    assert "Seules les 2 plus importantes" not in section

    register(gestionnaire, notary, dossier, channel=Channel.VISIT, kind=Kind.ROUTINE)
    response = client.get("/courrier/")
    assert len(response.context["actions"]) == 2
    assert "Seules les 2 plus importantes" in response.content.decode()


@pytest.mark.parametrize("count", [1, 30])
def test_the_work_list_needs_the_same_queries_whatever_the_data(
    as_user, gestionnaire, dossier, notary, count, django_assert_max_num_queries
):
    for _ in range(count):
        register(
            gestionnaire,
            notary,
            DossierFactory(client=dossier.client, gestionnaire=gestionnaire),
            channel=Channel.VISIT,
            kind=Kind.ROUTINE,
        )
    client = as_user(gestionnaire)

    with django_assert_max_num_queries(9):
        assert client.get("/courrier/").status_code == 200


@pytest.mark.parametrize("count", [1, 20])
def test_the_item_and_dossier_pages_need_the_same_queries_whatever_the_history(
    as_user, gestionnaire, dossier, notary, count, django_assert_max_num_queries
):
    item = register(gestionnaire, notary, dossier, channel=Channel.CALL)
    for number in range(count):
        services.event_record(
            dossier=dossier,
            item=item,
            label=f"Appel {number}",
            text="Confirmé.",
            occurred_at=timezone.now(),
            by=gestionnaire,
        )
    client = as_user(gestionnaire)

    # 17: the work requests asked from the item are one query of their own.
    with django_assert_max_num_queries(17):
        assert client.get(f"/courrier/{item.pk}/").status_code == 200
    with django_assert_max_num_queries(11):
        assert client.get(f"/courrier/dossier/{dossier.reference}/").status_code == 200


def test_the_home_page_counts_my_open_and_overdue_items(as_user, gestionnaire, dossier, notary):
    register(
        gestionnaire,
        notary,
        dossier,
        channel=Channel.EMAIL,
        received_at=timezone.now() - timedelta(hours=50),
    )
    register(gestionnaire, notary, dossier)

    page = as_user(gestionnaire).get("/").content.decode()

    assert "2 éléments ouverts" in page
    assert "1 en retard" in page


def test_the_dossier_page_shows_the_correspondence_history(as_user, gestionnaire, dossier, notary):
    register(gestionnaire, notary, dossier, subject="Succession Dupont")

    page = as_user(gestionnaire).get(f"/contacts/dossiers/{dossier.pk}/").content.decode()

    assert 'id="dossier-history"' in page
    assert "Succession Dupont" in page


def test_it_refuses_a_reply_to_a_call_from_the_item_page(as_user, gestionnaire, dossier, notary):
    call = register(gestionnaire, notary, dossier, channel=Channel.CALL)
    point = call.points.first()

    response = as_user(gestionnaire).post(
        f"/courrier/{call.pk}/repondre/",
        {
            "via": "letter",
            "dated": timezone.localdate().isoformat(),
            f"answer_{point.pk}": "Vu au téléphone.",
        },
    )

    assert response.status_code == 400
    assert "confirmez-le par écrit" in response.content.decode()
    call.refresh_from_db()
    assert call.status == Status.RECEIVED and call.answered_at is None
    assert Reply.objects.count() == 0


def test_it_registers_a_letter_as_a_request_whatever_the_hidden_kind(
    as_user, gestionnaire, dossier, notary
):
    data = form_data(dossier, notary, channel="letter", kind="appointment")

    response = as_user(gestionnaire).post("/courrier/enregistrer/", data)

    assert response.status_code == 302
    assert IncomingItem.objects.get().kind == Kind.REQUEST


def test_it_asks_to_declare_a_bailiffs_visit_is_not_an_act(as_user, gestionnaire, dossier):
    from tests.factories import IntervenantFactory, MandateFactory

    bailiff = IntervenantFactory(kind="bailiff", name="Maître Huissier")
    mandate = MandateFactory(
        intervenant=bailiff, client=dossier.client, valid_from=timezone.localdate()
    )
    from ged.services import document_store

    mandate.proof = document_store(
        file=pdf_file("mandat.pdf"), owner=mandate, added_by=gestionnaire
    )
    mandate.save(update_fields=["proof"])
    client = as_user(gestionnaire)
    data = form_data(dossier, bailiff, channel="visit", kind="routine")

    page = client.get("/courrier/enregistrer/").content.decode()
    assert '<p class="field-not_a_bailiff_act" data-channels="visit">' in page
    refused = client.post("/courrier/enregistrer/", data)
    assert "seul le service juridique" in refused.context["form"].errors["not_a_bailiff_act"][0]
    assert IncomingItem.objects.count() == 0

    accepted = client.post("/courrier/enregistrer/", {**data, "not_a_bailiff_act": "on"})
    assert accepted.status_code == 302
    item = IncomingItem.objects.get()
    assert item.kind == Kind.ROUTINE
    assert "pas la remise d" in client.get(f"/courrier/{item.pk}/").content.decode()


def test_an_imported_dossier_reference_with_a_slash_keeps_the_pages_up(
    client, gestionnaire, notary, dossier
):
    """An imported dossier keeps its own reference: a slash in it broke every link to it (500)."""
    dossier.reference = "2019/0042"
    dossier.save(update_fields=["reference"])
    item = register(gestionnaire, notary, dossier)
    client.force_login(gestionnaire)

    for url in ["/courrier/", f"/courrier/{item.pk}/", "/courrier/alertes/"]:
        assert client.get(url).status_code == 200, url
    page = client.get("/courrier/dossier/2019/0042/")
    assert page.status_code == 200
    assert "Succession Dupont" in page.content.decode()


def test_the_item_page_links_to_its_dossier_and_its_sender(client, gestionnaire, notary, dossier):
    item = register(gestionnaire, notary, dossier)
    client.force_login(gestionnaire)

    page = client.get(f"/courrier/{item.pk}/").content.decode()

    assert f'href="/contacts/dossiers/{dossier.pk}/"' in page
    assert f'href="/contacts/intervenants/{notary.pk}/"' in page
    assert client.get(f"/contacts/dossiers/{dossier.pk}/").status_code == 200
    assert client.get(f"/contacts/intervenants/{notary.pk}/").status_code == 200


def test_starting_the_processing_says_so(client, gestionnaire, notary, dossier):
    item = register(gestionnaire, notary, dossier)
    services.item_file_original(item=item, file=pdf_file(), by=gestionnaire)
    client.force_login(gestionnaire)

    page = client.post(f"/courrier/{item.pk}/traiter/", follow=True)

    item.refresh_from_db()
    assert item.status == Status.IN_PROGRESS
    assert "Traitement commencé." in page.content.decode()
