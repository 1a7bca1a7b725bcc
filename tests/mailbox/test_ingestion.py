"""Ingestion against the real Dovecot: register, file, sort, thread, recognise, quarantine."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from correspondence.models import IncomingItem, Status
from correspondence.services import ReplyDraft, reply_send
from email_channel.models import InboundMessage, State
from ged.models import Document
from tests.factories import ClientFactory, DossierFactory, IntervenantFactory
from tests.mailbox import corpus
from tests.mailbox.conftest import mandate_for

pytestmark = pytest.mark.django_db


def documents_of(owner) -> list[Document]:
    return list(
        Document.objects.filter(
            owner_type=ContentType.objects.get_for_model(owner), owner_id=owner.pk
        ).order_by("added_at", "pk")
    )


def the_message(**filters) -> InboundMessage:
    return InboundMessage.objects.get(**filters)


def test_it_registers_an_email_from_a_mandated_intervenant_and_archives_it(
    server, poll, dossier, notary
):
    received = (timezone.now() - datetime.timedelta(hours=3)).replace(microsecond=0)
    msgid = corpus.message_id("notaires.fr")
    server.append(
        corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference, msgid=msgid),
        dt=received,
    )

    result = poll()

    message = the_message()
    item = message.item
    assert message.state == State.REGISTERED
    assert (item.channel, item.dossier, item.sender) == ("email", dossier, notary)
    assert item.subject.startswith("Succession Dupont")
    assert item.assigned_to == dossier.gestionnaire
    assert item.mandate is not None  # R1 checked by the registration
    # R8: 48 hours from the server's reception (INTERNALDATE), not from the ingestion.
    assert item.received_at == received
    assert item.due_at == received + datetime.timedelta(hours=48)
    assert item.message_id == msgid  # our reply will refer to it
    [point] = item.points.all()
    assert "montant des loyers encaissés" in point.text
    # R7: the original .eml and the attachment are in the GED, on the item.
    types = [d.content_type for d in documents_of(item)]
    assert types == ["message/rfc822", "application/pdf"]
    assert item.original_filed_at is not None
    # …and the message left the inbox for the archive folder, after the commit.
    assert (server.inbox(), server.archive()) == (0, 1)
    message.refresh_from_db()
    assert message.archived_at is not None
    assert result.archived == 1 and result.taken == 1


def test_it_registers_an_email_from_a_client_in_his_only_dossier(server, poll, dossier):
    dossier.client.email = "M.Dupont@Exemple.fr"
    dossier.client.save()
    server.append(corpus.latin1(sender="m.dupont@exemple.fr"))

    poll()

    item = the_message().item
    assert (item.sender, item.dossier, item.subject) == (
        dossier.client,
        dossier,
        "Réclamation chauffage",
    )


def test_the_dossier_reference_in_the_subject_chooses_among_several_dossiers(
    server, poll, dossier, notary, gestionnaire
):
    other = DossierFactory(client=dossier.client, gestionnaire=gestionnaire)
    server.append(
        corpus.plain(
            sender=notary.email, subject=f"Dossier {other.reference} : pièces", body="Voici."
        )
    )

    poll()

    assert the_message().item.dossier == other


@pytest.mark.parametrize(
    "build",
    [
        lambda: corpus.html_only(sender="inconnu@exemple.fr"),
    ],
)
def test_an_unknown_sender_goes_to_triage_with_the_deadline_from_reception(server, poll, build):
    received = (timezone.now() - datetime.timedelta(hours=50)).replace(microsecond=0)
    server.append(build(), dt=received)

    poll()

    message = the_message()
    assert message.state == State.TRIAGE
    assert "inconnu@exemple.fr" in message.triage_reason
    assert message.item is None and not IncomingItem.objects.exists()
    assert message.due_at == received + datetime.timedelta(hours=48)
    assert message.is_overdue()
    # Held in our table, the email is archived on the server all the same (it is safe here).
    assert [d.content_type for d in documents_of(message)] == ["message/rfc822"]
    assert server.archive() == 1


def test_a_sender_with_several_dossiers_goes_to_triage(server, poll, dossier, notary, gestionnaire):
    second = DossierFactory(client=dossier.client, gestionnaire=gestionnaire)
    server.append(corpus.plain(sender=notary.email, subject="Question", body="Bonjour"))

    poll()

    message = the_message()
    assert message.state == State.TRIAGE
    assert dossier.reference in message.triage_reason and second.reference in message.triage_reason


def test_an_intervenant_without_a_valid_mandate_goes_to_triage_with_the_r1_reason(
    server, poll, dossier
):
    lawyer = IntervenantFactory(kind="lawyer", email="avocat@barreau.fr")
    server.append(
        corpus.plain(sender=lawyer.email, subject=f"{dossier.reference} assignation", body="Pièces")
    )

    poll()

    message = the_message()
    assert message.state == State.TRIAGE
    assert "aucun mandat" in message.triage_reason
    assert not IncomingItem.objects.exists()


def test_refused_attachments_are_listed_with_the_geds_reason(server, poll, dossier, notary):
    server.append(corpus.docx_attachment(sender=notary.email))

    poll()

    message = the_message()
    [refused] = message.refused_attachments.all()
    assert refused.filename == "compte-rendu.docx"
    assert "n’est pas accepté" in refused.reason
    assert [d.original_filename for d in documents_of(message.item)][1:] == ["plan.pdf"]


def test_winmail_dat_and_rfc2231_attachments_reach_the_ged(server, poll, dossier, notary):
    server.append(corpus.winmail(sender=notary.email), corpus.rfc2231_filename(sender=notary.email))

    poll()

    names = {
        d.original_filename
        for m in InboundMessage.objects.all()
        for d in documents_of(m.item)
        if d.content_type == "application/pdf"
    }
    assert names == {"facture-1042.pdf", "devis rénovation été.pdf"}


def test_a_forwarded_message_is_filed_as_an_eml(server, poll, dossier, notary):
    server.append(corpus.forwarded(sender=notary.email))

    poll()

    item = the_message().item
    documents = documents_of(item)
    assert [d.content_type for d in documents] == ["message/rfc822", "message/rfc822"]
    # The item keeps the Message-ID of the email itself, not of the forwarded one.
    assert item.message_id == the_message().message_id


def _answer_by_email(item, by):
    """Our reply to the item, by email: it has a Message-ID the intervenant's answer refers to."""
    point = item.points.get()
    return reply_send(
        item=item,
        draft=ReplyDraft(
            via="email",
            dated=timezone.localdate(),
            answers={point.pk: "Les loyers encaissés s'élèvent à 4 200 €."},
            recipient_email=item.sender.email,
        ),
        by=by,
    )


def test_a_request_opening_with_absent_is_registered_with_its_deadline(
    server, poll, dossier, notary
):
    subject = "Absent lors de la visite du 12, merci de reprogrammer"
    server.append(corpus.plain(sender=notary.email, subject=subject, body="Merci."))

    poll()

    message = the_message()
    assert (message.state, message.automatic_kind) == (State.REGISTERED, "")
    assert message.item.subject == subject and message.item.due_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {"List-Unsubscribe": "<mailto:desinscription@notaires.fr>"},
        {"Precedence": "bulk"},
        {"Precedence": "list", "List-Id": "<etude.notaires.fr>"},
    ],
    ids=["list-unsubscribe", "precedence-bulk", "precedence-list"],
)
def test_bulk_headers_from_a_sender_we_know_are_read_as_a_request(
    server, poll, dossier, notary, headers
):
    dossier.client.email = "m.dupont@exemple.fr"
    dossier.client.save()
    server.append(
        corpus.plain(sender=notary.email, subject="Relevé de charges", body="x", headers=headers),
        corpus.plain(sender="m.dupont@exemple.fr", subject="Fuite", body="x", headers=headers),
        corpus.plain(sender="lettre@inconnu.fr", subject="Lettre", body="x", headers=headers),
    )

    poll()

    by_sender = {m.from_address: m for m in InboundMessage.objects.all()}
    for known in (notary.email, "m.dupont@exemple.fr"):
        assert (by_sender[known].state, by_sender[known].automatic_kind) == (State.REGISTERED, "")
        assert by_sender[known].item.due_at is not None
    unknown = by_sender["lettre@inconnu.fr"]
    assert (unknown.state, unknown.automatic_kind) == (State.AUTOMATIC, "bulk")
    assert IncomingItem.objects.count() == 2


def test_a_reply_to_our_email_is_threaded_on_the_item_not_registered(
    server, poll, dossier, notary, gestionnaire
):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    poll()
    item = the_message().item
    reply = _answer_by_email(item, gestionnaire)

    server.append(
        corpus.plain(
            sender=notary.email,
            subject="RE: Succession Dupont",
            body="Merci, bien reçu.",
            in_reply_to=reply.message_id,
            references=f"{item.message_id} {reply.message_id}",
        )
    )
    poll()

    answer = InboundMessage.objects.exclude(item=item).get()
    assert answer.state == State.THREADED
    assert answer.thread_item == item
    assert IncomingItem.objects.count() == 1  # no new request, no new deadline
    # The answer's .eml is on the item's documents (and so on its timeline).
    assert len([d for d in documents_of(item) if d.content_type == "message/rfc822"]) == 2
    assert server.archive() == 2


def test_a_reply_quoting_the_dossier_reference_is_threaded(server, poll, dossier, notary):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    poll()
    item = the_message().item

    server.append(
        corpus.plain(
            sender=notary.email, subject=f"RE : Votre courrier {dossier.reference}", body="Vu."
        )
    )
    poll()

    assert InboundMessage.objects.get(state=State.THREADED).thread_item == item


@pytest.mark.parametrize(
    "subject",
    ["Réf : {reference} nouvelle fuite", "Réf: {reference}", "TR: {reference}", "Fwd: {reference}"],
)
def test_a_new_email_opening_with_a_reference_or_a_forward_is_a_new_request(
    server, poll, dossier, notary, subject
):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    poll()
    first = the_message().item

    subject = subject.format(reference=dossier.reference)
    server.append(corpus.plain(sender=notary.email, subject=subject, body="Une autre demande."))
    poll()

    message = the_message(subject=subject)
    assert message.state == State.REGISTERED and message.thread_item is None
    assert message.item != first and message.item.dossier == dossier
    assert message.item.due_at is not None


def _answered(item, *, days_ago: int, close: bool) -> None:
    at = timezone.now() - datetime.timedelta(days=days_ago)
    IncomingItem.objects.filter(pk=item.pk).update(
        status=Status.CLOSED if close else Status.ANSWERED,
        answered_at=at,
        closed_at=at if close else None,
    )


def test_a_reply_by_subject_to_an_item_closed_long_ago_is_a_new_request(
    server, poll, dossier, notary
):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    poll()
    old = the_message().item
    _answered(old, days_ago=90, close=True)

    subject = f"RE: Succession Dupont ({dossier.reference}) – nouvelle question"
    server.append(corpus.plain(sender=notary.email, subject=subject, body="Autre chose."))
    poll()

    message = the_message(subject=subject)
    assert message.state == State.REGISTERED and message.thread_item is None
    assert message.item != old and message.item.due_at is not None


@pytest.mark.parametrize("prefix", ["RE:", "Re :", "AW:", "SV:"])
def test_a_reply_by_subject_to_an_item_answered_recently_is_threaded(
    server, poll, dossier, notary, prefix
):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    poll()
    item = the_message().item
    _answered(item, days_ago=10, close=False)

    subject = f"{prefix} Succession Dupont ({dossier.reference})"
    server.append(corpus.plain(sender=notary.email, subject=subject, body="Merci."))
    poll()

    assert the_message(subject=subject).thread_item == item
    assert IncomingItem.objects.count() == 1


def test_automatic_messages_get_no_item_and_no_deadline(
    server, poll, dossier, notary, gestionnaire
):
    server.append(corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference))
    poll()
    item = the_message().item
    reply = _answer_by_email(item, gestionnaire)

    server.append(
        corpus.out_of_office(sender=notary.email, in_reply_to=reply.message_id),
        corpus.delivery_failure(original_msgid=reply.message_id),
        corpus.read_receipt(sender=notary.email, original_msgid=reply.message_id),
        corpus.plain(
            sender="newsletter@notaires.fr",
            subject="Lettre",
            body="…",
            headers={"Precedence": "bulk"},
        ),
    )
    poll()

    automatic = InboundMessage.objects.filter(state=State.AUTOMATIC)
    assert sorted(automatic.values_list("automatic_kind", flat=True)) == [
        "auto_reply",
        "bulk",
        "delivery_failure",
        "read_receipt",
    ]
    # Linked to the item they concern when it is known (the bounce tells the gestionnaire).
    linked = {m.automatic_kind: m.thread_item for m in automatic}
    assert linked["delivery_failure"] == item and linked["read_receipt"] == item
    assert linked["auto_reply"] == item and linked["bulk"] is None
    assert IncomingItem.objects.count() == 1
    assert server.inbox() == 0


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (corpus.no_sender, "pas d’adresse d’expéditeur"),
        (lambda: corpus.unknown_charset(sender="x@exemple.fr"), "jeu de caractères inconnu"),
        (lambda: corpus.invalid_utf8(sender="x@exemple.fr"), "jeu de caractères déclaré"),
        (lambda: corpus.truncated_mime(sender="x@exemple.fr"), "Structure MIME cassée"),
        (lambda: corpus.nested(sender="x@exemple.fr", depth=3000), "imbriquée"),
        (lambda: corpus.many_parts(sender="x@exemple.fr", count=2000), "parties"),
    ],
    ids=["no-from", "charset", "utf8", "truncated", "nesting", "parts"],
)
def test_a_malformed_message_is_quarantined_and_never_stops_the_others(
    server, poll, dossier, notary, build, reason
):
    bad = build()
    server.append(
        corpus.plain(sender=notary.email, subject="Avant", body="Premier"),
        bad,
        corpus.plain(sender=notary.email, subject="Après", body="Dernier"),
    )

    poll()

    quarantined = the_message(state=State.QUARANTINED)
    assert reason in quarantined.quarantine_reason
    assert bytes(quarantined.raw) == bad.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert quarantined.item is None
    assert InboundMessage.objects.filter(state=State.REGISTERED).count() == 2
    assert IncomingItem.objects.count() == 2
    assert (server.inbox(), server.archive()) == (0, 3)


def test_nul_characters_never_stop_the_mailbox(server, poll, dossier, notary):
    # "=00" in the body, the subject, the sender's name and a file name: PostgreSQL's text
    # cannot hold NUL, and the message's row could never be written, run after run.
    server.append(
        corpus.plain(sender=notary.email, subject="Avant", body="Premier"),
        corpus.nul_characters(sender=notary.email),
        corpus.plain(sender=notary.email, subject="Après", body="Dernier"),
    )

    result = poll()

    assert result.error == "" and result.failed == 0
    message = the_message(subject="Demande")
    assert message.state == State.REGISTERED
    assert (message.from_name, message.body) == (
        "Jean Martin",
        "Bonjour, la chaudière fuit encore.",
    )
    assert message.item.subject == "Demande"
    assert "devis.pdf" in [d.original_filename for d in documents_of(message.item)]
    assert InboundMessage.objects.filter(state=State.REGISTERED).count() == 3
    assert (server.inbox(), server.archive()) == (0, 3)


def test_a_message_whose_row_the_database_refuses_is_quarantined_not_taken_for_an_outage(
    server, poll, dossier, notary, monkeypatch
):
    from email_channel import parsing

    # Should a text PostgreSQL refuses ever get past the parsing, its claim fails alone.
    monkeypatch.setattr(parsing, "_storable", lambda parsed: parsed)
    server.append(
        corpus.plain(sender=notary.email, subject="Avant", body="Premier"),
        corpus.nul_characters(sender=notary.email, subject="Refusée"),
        corpus.plain(sender=notary.email, subject="Après", body="Dernier"),
    )

    result = poll()

    assert result.error == ""
    refused = the_message(state=State.QUARANTINED)
    assert "ne peut pas être enregistré" in refused.quarantine_reason
    assert "DataError" in refused.quarantine_reason
    assert refused.subject == "Refusée"
    assert b"Refus" in bytes(refused.raw)
    assert sorted(IncomingItem.objects.values_list("subject", flat=True)) == ["Après", "Avant"]
    assert (server.inbox(), server.archive()) == (0, 3)


def test_a_message_over_the_size_limit_is_quarantined_without_downloading_it(
    server, poll, settings, dossier, notary
):
    settings.MAILBOX_MAX_MESSAGE_SIZE = 50_000
    server.append(corpus.big(sender=notary.email, size=80_000))

    poll()

    message = the_message()
    assert message.state == State.QUARANTINED
    assert "trop volumineux" in message.quarantine_reason
    assert message.size > 80_000
    assert len(bytes(message.raw)) < 5_000  # the header block only; the whole is in the archive
    assert message.subject == "Très gros message"
    assert server.archive() == 1


def test_the_same_message_twice_is_registered_once(server, poll, dossier, notary):
    raw = corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference)
    server.append(raw, raw)

    poll()

    assert IncomingItem.objects.count() == 1
    duplicate = the_message(state=State.DUPLICATE)
    assert duplicate.duplicate_of == the_message(state=State.REGISTERED)
    assert server.archive() == 2


def test_a_new_uidvalidity_does_not_register_the_same_messages_again(server, poll, dossier, notary):
    raw = corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference)
    server.append(raw)
    poll()
    # The folder is recreated (UIDVALIDITY changes) and the message comes back in it.
    server.drop()
    server.create()
    server.append(raw)

    poll()

    assert IncomingItem.objects.count() == 1
    assert InboundMessage.objects.filter(state=State.DUPLICATE).count() == 1
    assert InboundMessage.objects.values("uidvalidity").distinct().count() == 2


def test_a_client_and_an_intervenant_sharing_an_address_go_to_triage(server, poll, dossier, notary):
    ClientFactory(email=notary.email)
    DossierFactory(client=ClientFactory(email=notary.email))
    server.append(corpus.plain(sender=notary.email, subject="Bonjour", body="…"))

    poll()

    assert the_message().state == State.TRIAGE


def test_a_second_mandated_client_makes_the_sender_ambiguous(
    server, poll, dossier, notary, gestionnaire
):
    other = DossierFactory(gestionnaire=gestionnaire)
    mandate_for(notary, other, by=gestionnaire)
    server.append(corpus.plain(sender=notary.email, subject="Bonjour", body="…"))

    poll()

    assert the_message().state == State.TRIAGE


@pytest.fixture
def namesake(gestionnaire, notary):
    """A second intervenant with the notary's address, mandated for another client's dossier.

    The database refuses two intervenants with one address today (the unique index
    contacts_intervenant_unique_email); routing must not rely on it: the index is dropped for
    this test only (DDL is transactional in PostgreSQL: rolled back with the test).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX contacts_intervenant_unique_email")
    # Sorted before "Maître Lefèvre": the one a single intervenant per address would keep.
    other = IntervenantFactory(kind="notary", name="Cabinet Martin", email=notary.email.upper())
    other_dossier = DossierFactory(gestionnaire=gestionnaire)
    mandate_for(other, other_dossier, by=gestionnaire)
    return other, other_dossier


def test_two_intervenants_sharing_an_address_send_the_email_to_triage(
    server, poll, dossier, notary, namesake
):
    server.append(corpus.plain(sender=notary.email, subject="Bonjour", body="…"))

    poll()

    message = the_message()
    assert message.state == State.TRIAGE and message.item is None
    assert "2 dossiers" in message.triage_reason


def test_the_dossier_reference_picks_the_intervenant_mandated_for_it_among_namesakes(
    server, poll, dossier, notary, namesake
):
    other, other_dossier = namesake
    server.append(
        corpus.plain(sender=notary.email, subject=f"Vente {dossier.reference}", body="…"),
        corpus.plain(sender=notary.email, subject=f"Bail {other_dossier.reference}", body="…"),
    )

    poll()

    mine = the_message(subject=f"Vente {dossier.reference}").item
    theirs = the_message(subject=f"Bail {other_dossier.reference}").item
    assert (mine.sender, mine.dossier) == (notary, dossier)
    assert (theirs.sender, theirs.dossier) == (other, other_dossier)
