"""A mailbox is taken by batches: what one message at a time gave, a batch gives too."""

import pytest
from django.db import DataError, IntegrityError, OperationalError, ProgrammingError, connection
from django.test.utils import CaptureQueriesContext

from correspondence.models import IncomingItem
from email_channel import services
from email_channel.models import InboundMessage, Mailbox, State
from tests.mailbox import corpus

pytestmark = pytest.mark.django_db


def test_a_reply_in_the_same_batch_threads_on_the_item_registered_before_it(
    server, poll, dossier, notary
):
    server.append(
        corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference),
        corpus.plain(
            sender=notary.email, subject=f"RE : Votre courrier {dossier.reference}", body="Vu."
        ),
    )

    poll()

    item = IncomingItem.objects.get()
    assert InboundMessage.objects.get(state=State.THREADED).thread_item == item
    assert server.archive() == 2


def test_a_message_answering_another_of_the_batch_by_message_id_threads_on_it(
    server, poll, dossier, notary
):
    first = corpus.message_id("notaires.fr")
    server.append(
        corpus.notary_with_pdf(sender=notary.email, reference=dossier.reference, msgid=first),
        corpus.plain(sender=notary.email, subject="Complément", body="x", in_reply_to=first),
    )

    poll()

    assert (
        InboundMessage.objects.get(state=State.THREADED).thread_item == IncomingItem.objects.get()
    )


def test_the_queries_of_a_batch_do_not_grow_with_its_messages(server, poll, dossier, notary):
    def queries_for(count: int) -> int:
        server.append(
            *(
                corpus.plain(sender=notary.email, subject=f"Demande {n}", body=f"Point {n}")
                for n in range(count)
            )
        )
        with CaptureQueriesContext(connection) as queries:
            result = poll()
        assert result.taken == count and result.archived == count
        return len(queries.captured_queries)

    queries_for(1)  # the first reading creates the mailbox, its robot, the archive folder
    few, many = queries_for(2), queries_for(20)

    assert many == few
    assert IncomingItem.objects.count() == 23


def test_a_batch_refused_by_a_constraint_is_taken_again_one_message_at_a_time(
    server, poll, dossier, notary, monkeypatch
):
    real = services.items_create
    sizes = []

    def refusing_batches(drafts):
        sizes.append(len(drafts))
        if len(drafts) > 1:
            raise IntegrityError("a constraint refused the batch")
        return real(drafts)

    monkeypatch.setattr(services, "items_create", refusing_batches)
    server.append(
        *(corpus.plain(sender=notary.email, subject=f"Demande {n}", body="x") for n in range(3))
    )

    result = poll()

    assert sizes == [3, 1, 1, 1]
    assert result.error == "" and result.archived == 3
    assert IncomingItem.objects.count() == 3
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {State.REGISTERED}


@pytest.mark.parametrize("error", [IntegrityError, DataError])
def test_a_message_refused_by_the_database_even_alone_is_quarantined_and_blocks_nothing(
    server, poll, dossier, notary, monkeypatch, settings, error
):
    settings.MAILBOX_MAX_ATTEMPTS = 3
    real = services.items_create

    def refusing_the_poison(drafts):
        if any(draft.item.subject == "Poison" for draft in drafts):
            raise error("the database refused this message")
        return real(drafts)

    monkeypatch.setattr(services, "items_create", refusing_the_poison)
    server.append(
        corpus.plain(sender=notary.email, subject="Avant", body="x"),
        corpus.plain(sender=notary.email, subject="Poison", body="x"),
        corpus.plain(sender=notary.email, subject="Après", body="x"),
    )

    first = poll()

    # Not an outage: the others are registered and moved, the failure is counted.
    assert (first.error, first.failed, first.archived) == ("", 1, 2)
    assert sorted(IncomingItem.objects.values_list("subject", flat=True)) == ["Après", "Avant"]
    poison = InboundMessage.objects.get(subject="Poison")
    assert (poison.state, poison.attempts) == (State.PENDING, 1)
    assert error.__name__ in poison.last_error
    assert server.inbox() == 1

    second, third = poll(), poll()

    assert (second.error, second.failed, third.error, third.failed) == ("", 1, "", 1)
    poison.refresh_from_db()
    assert (poison.state, poison.attempts) == (State.QUARANTINED, 3)
    assert error.__name__ in poison.quarantine_reason
    assert b"Subject: Poison" in bytes(poison.raw)
    assert (server.inbox(), server.archive()) == (0, 3)
    assert IncomingItem.objects.count() == 2


def test_a_database_outage_stops_the_run_and_counts_against_no_message(
    server, poll, dossier, notary, monkeypatch
):
    def database_down(drafts):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "items_create", database_down)
    server.append(corpus.plain(sender=notary.email, subject="Demande", body="x"))

    result = poll()

    assert "server closed the connection" in result.error
    message = InboundMessage.objects.get()
    assert (message.state, message.attempts) == (State.PENDING, 0)
    assert server.inbox() == 1


def test_a_database_bug_outside_the_messages_data_fails_the_run_loudly_and_is_shown(
    server, poll, dossier, notary, monkeypatch
):
    def broken_schema(drafts):
        raise ProgrammingError('column "mandate_id" does not exist')

    monkeypatch.setattr(services, "items_create", broken_schema)
    server.append(corpus.plain(sender=notary.email, subject="Demande", body="x"))

    with pytest.raises(ProgrammingError):
        poll()

    mailbox = Mailbox.objects.get()
    assert "mandate_id" in mailbox.last_error and mailbox.claimed_until is None
    # Not the message's fault: nothing counted against it, nothing quarantined.
    message = InboundMessage.objects.get()
    assert (message.state, message.attempts) == (State.PENDING, 0)
    assert server.inbox() == 1


def test_a_batch_is_fetched_and_moved_in_chunks_of_the_configured_size(
    server, poll, dossier, notary, settings
):
    settings.MAILBOX_FETCH_CHUNK = 2
    server.append(
        *(corpus.plain(sender=notary.email, subject=f"Demande {n}", body="x") for n in range(5))
    )

    result = poll()

    assert (result.taken, result.archived) == (5, 5)
    assert (server.inbox(), server.archive()) == (0, 5)
    assert IncomingItem.objects.count() == 5
