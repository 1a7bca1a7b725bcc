"""The pages: triage list, quarantine list, message, register/split, dismiss, read, raw bytes."""

import datetime
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from correspondence.models import IncomingItem
from email_channel import services
from email_channel.models import InboundMessage, Mailbox, State
from tests.factories import DossierFactory, IntervenantFactory, UserFactory
from tests.mailbox import corpus

pytestmark = pytest.mark.django_db

_uids = itertools.count(1)


@pytest.fixture
def take():
    """Take a message as the reader would, without a server (the reading itself is tested
    against Dovecot elsewhere)."""
    mailbox = Mailbox.objects.create(
        name="gestion", address="gestion@agence.test", folder="INBOX", archive_folder="Archive"
    )

    def run(raw: bytes, *, hours_ago: float = 1) -> InboundMessage:
        return services.message_take(
            mailbox=mailbox,
            uidvalidity=1,
            uid=next(_uids),
            raw=raw,
            internaldate=timezone.now() - datetime.timedelta(hours=hours_ago),
        )

    return run


@pytest.fixture
def triaged(take):
    return take(corpus.html_only(sender="inconnu@exemple.fr"), hours_ago=5)


@pytest.fixture
def quarantined(take):
    return take(corpus.no_sender())


def test_the_triage_list_is_for_the_staff(client, as_user, triaged, gestionnaire, direction, legal):
    url = reverse("mailbox:triage_list")

    for user in (gestionnaire, direction, legal):
        response = as_user(user).get(url)
        assert response.status_code == 200
        assert "attestation de loyer" in response.text
        assert "Expéditeur inconnu" in response.text
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    assert as_user(UserFactory()).get(url).status_code == 403


def test_the_triage_list_shows_the_deadline_from_reception(as_user, take, gestionnaire):
    message = take(corpus.html_only(sender="inconnu@exemple.fr"), hours_ago=50)

    response = as_user(gestionnaire).get(reverse("mailbox:triage_list"))

    assert message.is_overdue()
    assert timezone.localtime(message.due_at).strftime("%d/%m/%Y %H:%M") in response.text
    assert "en retard" in response.text


def test_the_triage_list_costs_the_same_queries_whatever_its_length(
    as_user, take, gestionnaire, django_assert_max_num_queries
):
    page = as_user(gestionnaire)
    take(corpus.html_only(sender="a@exemple.fr"))
    with django_assert_max_num_queries(12) as few:
        page.get(reverse("mailbox:triage_list"))
    for n in range(15):
        take(corpus.plain(sender=f"inconnu{n}@exemple.fr", subject=f"Question {n}", body="?"))
        take(corpus.delivery_failure(original_msgid=f"<lettre-{n}@agence.test>"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = page.get(reverse("mailbox:triage_list"))
    assert response.text.count("Question ") == 15
    assert response.text.count("Undelivered Mail Returned to Sender") == 15


def test_the_quarantine_is_for_the_direction_only(
    as_user, quarantined, gestionnaire, direction, legal, django_assert_max_num_queries
):
    url = reverse("mailbox:quarantine_list")

    assert as_user(gestionnaire).get(url).status_code == 403
    assert as_user(legal).get(url).status_code == 403
    page = as_user(direction)
    with django_assert_max_num_queries(20) as few:
        response = page.get(url)
    assert response.status_code == 200
    for _n in range(5):
        services.message_take(
            mailbox=quarantined.mailbox,
            uidvalidity=1,
            uid=next(_uids),
            raw=corpus.invalid_utf8(sender="x@exemple.fr"),
            internaldate=None,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert page.get(url).text.count("UTF-8 invalide") == 5
    assert "pas d’adresse d’expéditeur" in response.text
    # Neither its page nor its raw bytes are for the others.
    detail = reverse("mailbox:message", args=[quarantined.pk])
    raw = reverse("mailbox:raw", args=[quarantined.pk])
    assert as_user(gestionnaire).get(detail).status_code == 403
    assert as_user(gestionnaire).get(raw).status_code == 403
    assert as_user(direction).get(detail).status_code == 200


def test_the_direction_downloads_the_raw_bytes_never_displayed(as_user, quarantined, direction):
    response = as_user(direction).get(reverse("mailbox:raw", args=[quarantined.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == corpus_bytes(quarantined)


def corpus_bytes(message):
    return bytes(InboundMessage.objects.get(pk=message.pk).raw)


def test_the_message_page_shows_the_text_and_the_refused_attachments(as_user, take, gestionnaire):
    message = take(corpus.docx_attachment(sender="inconnu@exemple.fr"))

    response = as_user(gestionnaire).get(reverse("mailbox:message", args=[message.pk]))

    assert response.status_code == 200
    assert "voici le compte rendu au format Word" in response.text
    assert "compte-rendu.docx" in response.text and "n’est pas accepté" in response.text
    assert "plan.pdf" in response.text


def test_a_gestionnaire_registers_a_sorted_email_with_the_deadline_from_reception(
    as_user, triaged, gestionnaire, notary, dossier
):
    page = as_user(gestionnaire)
    url = reverse("mailbox:register", args=[triaged.pk])
    form = page.get(url, {"dossier": dossier.reference})
    assert form.status_code == 200
    assert "Maître Lefèvre" in form.text  # the dossier's mandated intervenants are offered

    response = page.post(
        url,
        {
            "dossier": dossier.reference,
            "sender": f"intervenant:{notary.pk}",
            "subject": "Attestation de loyer",
            "points": "Attestation pour la CAF\nPériode de janvier à juin",
        },
    )

    item = IncomingItem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("correspondence:item", args=[item.pk])
    assert (item.sender, item.dossier, item.channel) == (notary, dossier, "email")
    assert item.received_at == triaged.received_at
    assert item.due_at == triaged.received_at + datetime.timedelta(hours=48)
    assert item.created_by == gestionnaire
    assert [p.text for p in item.points.all()] == [
        "Attestation pour la CAF",
        "Période de janvier à juin",
    ]
    assert item.original_filed_at is not None  # its .eml came from the message's GED copy
    triaged.refresh_from_db()
    assert (triaged.state, triaged.item, triaged.resolved_by) == (
        State.REGISTERED,
        item,
        gestionnaire,
    )


def test_registering_from_an_unmandated_sender_is_refused_and_changes_nothing(
    as_user, triaged, gestionnaire, dossier
):
    lawyer = IntervenantFactory(kind="lawyer", email="inconnu@exemple.fr")

    response = as_user(gestionnaire).post(
        reverse("mailbox:register", args=[triaged.pk]),
        {
            "dossier": dossier.reference,
            "sender": f"intervenant:{lawyer.pk}",
            "subject": "Attestation",
            "points": "Un point",
        },
    )

    assert response.status_code == 400
    assert "aucun mandat" in response.text
    assert not IncomingItem.objects.exists()
    triaged.refresh_from_db()
    assert triaged.state == State.TRIAGE


def test_the_direction_may_force_an_unmandated_sender_with_a_reason(
    as_user, triaged, direction, dossier
):
    lawyer = IntervenantFactory(kind="lawyer", email="inconnu@exemple.fr")

    response = as_user(direction).post(
        reverse("mailbox:register", args=[triaged.pk]),
        {
            "dossier": dossier.reference,
            "sender": f"intervenant:{lawyer.pk}",
            "subject": "Attestation",
            "points": "Un point",
            "force_reason": "Avocat du client, mandat en cours de signature.",
        },
    )

    assert response.status_code == 302
    assert IncomingItem.objects.get().forced_by == direction


def test_bad_input_is_shown_in_french_and_changes_nothing(as_user, triaged, gestionnaire, notary):
    response = as_user(gestionnaire).post(
        reverse("mailbox:register", args=[triaged.pk]),
        {
            "dossier": "D-1999-00001",
            "sender": f"intervenant:{notary.pk}",
            "subject": "",
            "points": "",
        },
    )

    assert response.status_code == 400
    assert "Aucun dossier n’a cette référence." in response.text
    assert not IncomingItem.objects.exists()
    triaged.refresh_from_db()
    assert triaged.state == State.TRIAGE


def test_a_sender_outside_the_offered_contacts_is_refused(as_user, triaged, gestionnaire, dossier):
    outsider = IntervenantFactory(kind="lawyer")

    response = as_user(gestionnaire).post(
        reverse("mailbox:register", args=[triaged.pk]),
        {
            "dossier": dossier.reference,
            "sender": f"intervenant:{outsider.pk}",
            "subject": "x",
            "points": "y",
        },
    )

    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.text
    assert not IncomingItem.objects.exists()


def test_the_legal_service_reads_but_does_not_sort(as_user, triaged, legal, dossier, notary):
    url = reverse("mailbox:register", args=[triaged.pk])

    assert as_user(legal).get(reverse("mailbox:message", args=[triaged.pk])).status_code == 200
    assert as_user(legal).get(url).status_code == 403
    assert as_user(legal).post(url, {"dossier": dossier.reference}).status_code == 403


def test_a_threaded_reply_is_split_into_a_new_item(as_user, take, gestionnaire, dossier, notary):
    first = take(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    reply = take(
        corpus.plain(
            sender=notary.email,
            subject="RE: Succession Dupont",
            body="Autre chose : pouvez-vous aussi envoyer le bail ?",
            in_reply_to=first.message_id,
        )
    )
    assert (reply.state, reply.thread_item) == (State.THREADED, first.item)
    page = as_user(gestionnaire)
    form = page.get(reverse("mailbox:split", args=[reply.pk]))
    assert form.status_code == 200
    assert dossier.reference in form.text  # the thread's dossier and sender are proposed

    response = page.post(
        reverse("mailbox:split", args=[reply.pk]),
        {
            "dossier": dossier.reference,
            "sender": f"intervenant:{notary.pk}",
            "subject": "Envoi du bail",
            "points": "Envoyer le bail",
        },
    )

    assert response.status_code == 302
    new = IncomingItem.objects.exclude(pk=first.item.pk).get()
    assert new.received_at == reply.received_at
    reply.refresh_from_db()
    assert (reply.state, reply.item, reply.thread_item) == (State.REGISTERED, new, first.item)
    # Registering it again is refused: it has been dealt with.
    again = page.get(reverse("mailbox:split", args=[reply.pk]))
    assert again.status_code == 302


def test_an_email_that_asks_nothing_is_set_aside_with_a_reason(as_user, triaged, gestionnaire):
    url = reverse("mailbox:dismiss", args=[triaged.pk])
    page = as_user(gestionnaire)

    assert page.get(url).status_code == 405
    refused = page.post(url, {"reason": ""})
    assert refused.status_code == 400
    triaged.refresh_from_db()
    assert triaged.state == State.TRIAGE

    response = page.post(url, {"reason": "Publicité"})

    assert response.status_code == 302
    triaged.refresh_from_db()
    assert (triaged.state, triaged.dismiss_reason, triaged.resolved_by) == (
        State.DISMISSED,
        "Publicité",
        gestionnaire,
    )


def test_a_registered_email_cannot_be_dismissed(as_user, take, direction, dossier, notary):
    message = take(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))

    response = as_user(direction).post(
        reverse("mailbox:dismiss", args=[message.pk]), {"reason": "x"}
    )

    assert response.status_code == 400
    message.refresh_from_db()
    assert message.state == State.REGISTERED


def test_replies_on_my_items_show_on_my_home_until_read(
    as_user, take, gestionnaire, other_gestionnaire, dossier, notary
):
    first = take(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    reply = take(
        corpus.plain(
            sender=notary.email,
            subject="RE: Succession Dupont",
            body="Merci",
            in_reply_to=first.message_id,
        )
    )
    home, listing = reverse("home"), reverse("mailbox:triage_list")

    assert "1 nouvel email sur vos éléments" in as_user(gestionnaire).get(home).text
    assert "RE: Succession Dupont" in as_user(gestionnaire).get(listing).text
    assert "nouvel email" not in as_user(other_gestionnaire).get(home).text
    assert "RE: Succession Dupont" not in as_user(other_gestionnaire).get(listing).text
    acknowledge = reverse("mailbox:acknowledge", args=[reply.pk])
    assert as_user(gestionnaire).get(acknowledge).status_code == 405
    assert as_user(gestionnaire).post(acknowledge).status_code == 302

    reply.refresh_from_db()
    assert reply.acknowledged_at is not None
    assert "nouvel email" not in as_user(gestionnaire).get(home).text
    assert "RE: Succession Dupont" not in as_user(gestionnaire).get(listing).text


def test_automatic_messages_linked_to_no_item_are_listed_until_read(
    as_user, take, gestionnaire, direction, legal, dossier, notary
):
    first = take(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    linked = take(corpus.out_of_office(sender=notary.email, in_reply_to=first.message_id))
    unlinked = take(
        corpus.plain(
            sender="lettre@inconnu.fr",
            subject="Lettre d'information",
            body="…",
            headers={"List-Unsubscribe": "<mailto:stop@inconnu.fr>"},
        )
    )
    bounce = take(corpus.delivery_failure(original_msgid="<courrier-manuel@agence.test>"))
    assert linked.thread_item == first.item
    assert (unlinked.thread_item, bounce.thread_item) == (None, None)
    listing = reverse("mailbox:triage_list")

    for user in (gestionnaire, direction, legal):
        text = as_user(user).get(listing).text
        assert "Messages automatiques non rattachés" in text
        assert "Lettre d&#x27;information" in text
        assert reverse("mailbox:message", args=[bounce.pk]) in text
        assert (
            reverse("mailbox:message", args=[linked.pk])
            not in text.split('id="unlinked-automatic-messages"')[1].split("</section>")[0]
        )
    page = as_user(gestionnaire).get(reverse("mailbox:message", args=[unlinked.pk])).text
    assert reverse("mailbox:acknowledge", args=[unlinked.pk]) in page
    assert (
        as_user(gestionnaire).post(reverse("mailbox:acknowledge", args=[unlinked.pk])).status_code
        == 302
    )
    as_user(direction).post(reverse("mailbox:acknowledge", args=[bounce.pk]))

    unlinked.refresh_from_db()
    assert unlinked.acknowledged_at is not None
    assert "Messages automatiques non rattachés" not in as_user(gestionnaire).get(listing).text


def test_the_direction_home_counts_quarantine_and_the_list_shows_failing_mailboxes(
    as_user, quarantined, direction
):
    Mailbox.objects.update(last_error="login refused for gestion@agence.test")

    response = as_user(direction).get(reverse("home"))

    assert "1 email en quarantaine" in response.text
    assert reverse("mailbox:quarantine_list") in response.text
    assert "login refused" in as_user(direction).get(reverse("mailbox:quarantine_list")).text


def test_my_home_section_costs_one_query(as_user, gestionnaire, direction, triaged):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for user in (gestionnaire, direction):
        with CaptureQueriesContext(connection) as queries:
            as_user(user).get(reverse("home"))
        assert len([q for q in queries if "mailbox_" in q["sql"]]) == 1


def test_the_nav_links_follow_the_roles(as_user, gestionnaire, direction):
    quarantine = reverse("mailbox:quarantine_list")
    triage = reverse("mailbox:triage_list")

    assert triage in as_user(gestionnaire).get(reverse("home")).text
    assert quarantine not in as_user(gestionnaire).get(reverse("home")).text
    assert quarantine in as_user(direction).get(reverse("home")).text


@pytest.fixture
def notary(dossier, gestionnaire):
    from tests.mailbox.conftest import mandate_for

    intervenant = IntervenantFactory(
        kind="notary", name="Maître Lefèvre", email="etude@notaires.fr"
    )
    mandate_for(intervenant, dossier, by=gestionnaire)
    return intervenant


@pytest.fixture
def dossier(gestionnaire):
    return DossierFactory(gestionnaire=gestionnaire)


def test_the_item_partial_lists_the_origin_its_refused_attachments_and_the_thread(
    take, dossier, notary, django_assert_max_num_queries
):
    from django.template import Context, Template

    first = take(corpus.docx_attachment(sender=notary.email))
    take(
        corpus.plain(
            sender=notary.email,
            subject="RE: compte rendu",
            body="Merci",
            in_reply_to=first.message_id,
        )
    )
    template = Template("{% load mailbox_tags %}{% item_emails item %}")

    with django_assert_max_num_queries(2):
        html = template.render(Context({"item": first.item}))

    assert reverse("mailbox:message", args=[first.pk]) in html
    assert "compte-rendu.docx" in html and "n’est pas accepté" in html
    assert "RE: compte rendu" in html


def test_a_sorted_email_is_put_in_the_thread_of_an_existing_item(
    as_user, triaged, gestionnaire, legal, notary, dossier
):
    from correspondence import services as correspondence
    from ged.selectors import documents_for

    item = correspondence.item_register(
        channel="letter",
        received_at=timezone.now() - datetime.timedelta(days=2),
        sender=notary,
        dossier=dossier,
        subject="Attestation de loyer demandée par courrier",
        points=["Attestation pour la CAF"],
        assigned_to=gestionnaire,
        by=gestionnaire,
    )
    page = as_user(gestionnaire)
    form = page.get(reverse("mailbox:register", args=[triaged.pk]), {"dossier": dossier.reference})
    assert "Attestation de loyer demandée par courrier" in form.text  # offered as a thread
    url = reverse("mailbox:attach", args=[triaged.pk])
    assert as_user(legal).post(url, {"item": item.pk}).status_code == 403  # reads, never sorts

    response = as_user(gestionnaire).post(url, {"item": item.pk})

    assert response.status_code == 302
    assert response["Location"] == reverse("correspondence:item", args=[item.pk])
    triaged.refresh_from_db()
    assert (triaged.state, triaged.thread_item, triaged.resolved_by) == (
        State.THREADED,
        item,
        gestionnaire,
    )
    assert triaged.acknowledged_at is not None
    assert IncomingItem.objects.count() == 1  # a follow-up, no new request and no new deadline
    assert "message/rfc822" in [d.content_type for d in documents_for(item)]
    again = as_user(gestionnaire).post(url, {"item": item.pk}, follow=True)
    assert "Cet email a déjà été traité." in again.text
    assert as_user(gestionnaire).post(url, {"item": 999_999}).status_code == 404
