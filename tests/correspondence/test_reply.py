"""Replies: dated, with the dossier reference, point by point (R5); recommandé answered so (R6)."""

import datetime
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader

from correspondence import services
from correspondence.models import Channel, IncomingItem, Reply, Status
from tests.correspondence.conftest import eml_file, pdf_file

pytestmark = pytest.mark.django_db


def register(by, sender, dossier, **overrides):
    arguments = dict(
        channel=Channel.LETTER,
        received_at=timezone.now() - datetime.timedelta(hours=3),
        sender=sender,
        dossier=dossier,
        subject="Succession Dupont",
        points=["Copie du bail", "Dépôt de garantie"],
        assigned_to=dossier.gestionnaire,
        by=by,
        originals=[pdf_file()],
    )
    arguments.update(overrides)
    return services.item_register(**arguments)


def answers_for(item, *texts):
    return {point.pk: text for point, text in zip(item.points.all(), texts, strict=False)}


def test_it_answers_a_letter_point_by_point_with_a_pdf_in_the_ged(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER,
        dated=timezone.localdate(),
        answers=answers_for(item, "Ci-joint la copie du bail.", "Le dépôt est de 800 €."),
    )

    reply = services.reply_send(item=item, draft=draft, by=gestionnaire)

    item.refresh_from_db()
    assert item.status == Status.ANSWERED
    assert item.answered_at is not None
    assert reply.dossier_reference == dossier.reference
    assert reply.answers.count() == 2
    assert reply.document.content_type == "application/pdf"
    text = "".join(
        page.extract_text() for page in PdfReader(BytesIO(reply.document.file.read())).pages
    )
    assert dossier.reference in text
    assert "Copie du bail" in text and "Ci-joint la copie du bail." in text
    assert "Le dépôt est de 800 €." in text
    assert item.activities.filter(action="replied").count() == 1


def test_it_refuses_a_reply_that_leaves_a_point_unanswered(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER,
        dated=timezone.localdate(),
        answers=answers_for(item, "Ci-joint la copie.", "  "),
    )

    with pytest.raises(ValidationError) as refused:
        services.reply_send(item=item, draft=draft, by=gestionnaire)

    assert "2" in refused.value.message_dict["answers"][0]
    item.refresh_from_db()
    assert item.answered_at is None
    assert Reply.objects.count() == 0


def test_it_refuses_to_answer_a_letter_whose_scan_is_missing(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier, originals=[])
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER, dated=timezone.localdate(), answers=answers_for(item, "a", "b")
    )

    with pytest.raises(ValidationError, match="GED"):
        services.reply_send(item=item, draft=draft, by=gestionnaire)
    assert Reply.objects.count() == 0


@pytest.mark.parametrize(
    ("via", "registered", "tracking_number"),
    [("letter", False, ""), ("email", False, ""), ("letter", True, "")],
)
def test_it_answers_a_registered_letter_only_by_registered_letter(
    gestionnaire, dossier, notary, via, registered, tracking_number
):
    item = register(gestionnaire, notary, dossier, registered=True, tracking_number="RR123456789FR")
    draft = services.ReplyDraft(
        via=via,
        dated=timezone.localdate(),
        answers=answers_for(item, "a", "b"),
        registered=registered,
        tracking_number=tracking_number,
        recipient_email="notaire@exemple.fr",
    )

    with pytest.raises(ValidationError):
        services.reply_send(item=item, draft=draft, by=gestionnaire)
    assert Reply.objects.count() == 0


def test_it_sends_a_registered_reply_to_a_registered_letter(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier, registered=True, tracking_number="RR123456789FR")
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER,
        dated=timezone.localdate(),
        answers=answers_for(item, "a", "b"),
        registered=True,
        tracking_number="1A00000000001",
    )

    reply = services.reply_send(item=item, draft=draft, by=gestionnaire)

    assert reply.registered and reply.tracking_number == "1A00000000001"
    text = PdfReader(BytesIO(reply.document.file.read())).pages[0].extract_text()
    assert "1A00000000001" in text


def test_it_refuses_a_reply_dated_in_the_future(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER,
        dated=timezone.localdate() + datetime.timedelta(days=1),
        answers=answers_for(item, "a", "b"),
    )

    with pytest.raises(ValidationError) as refused:
        services.reply_send(item=item, draft=draft, by=gestionnaire)
    assert "dated" in refused.value.message_dict


def test_it_refuses_to_answer_twice(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER, dated=timezone.localdate(), answers=answers_for(item, "a", "b")
    )
    services.reply_send(item=item, draft=draft, by=gestionnaire)

    with pytest.raises(ValidationError):
        services.reply_send(item=IncomingItem.objects.get(pk=item.pk), draft=draft, by=gestionnaire)
    assert Reply.objects.count() == 1


def test_it_queues_an_email_reply_after_commit(
    gestionnaire, dossier, notary, django_capture_on_commit_callbacks
):
    item = register(gestionnaire, notary, dossier, channel=Channel.EMAIL, originals=[])
    services.item_file_original(item=item, file=eml_file(), by=gestionnaire)
    draft = services.ReplyDraft(
        via=Reply.Via.EMAIL,
        dated=timezone.localdate(),
        answers=answers_for(item, "a", "b"),
        recipient_email="notaire@exemple.fr",
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reply = services.reply_send(item=item, draft=draft, by=gestionnaire)

    assert len(callbacks) == 1
    assert reply.message_id.startswith("<") and reply.message_id.endswith(">")
    assert reply.email_sent_at is None


@pytest.mark.parametrize(
    ("channel", "kind"), [(Channel.CALL, "request"), (Channel.VISIT, "routine")]
)
def test_it_refuses_a_reply_to_an_oral_exchange(gestionnaire, dossier, notary, channel, kind):
    item = register(gestionnaire, notary, dossier, channel=channel, kind=kind, originals=[])
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER, dated=timezone.localdate(), answers=answers_for(item, "a", "b")
    )

    # R9: its written confirmation is an event (event log or Redmine ticket), then it is closed.
    with pytest.raises(ValidationError, match="confirmez-le par écrit"):
        services.reply_send(item=item, draft=draft, by=gestionnaire)

    item.refresh_from_db()
    assert item.status == Status.RECEIVED and item.answered_at is None
    assert Reply.objects.count() == 0
    assert not item.activities.filter(action="replied").exists()


def test_it_refuses_a_reply_dated_before_the_reception(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier)
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER, dated=datetime.date(2001, 1, 1), answers=answers_for(item, "a", "b")
    )

    with pytest.raises(ValidationError, match="avant la réception") as refused:
        services.reply_send(item=item, draft=draft, by=gestionnaire)

    assert "dated" in refused.value.error_dict
    assert Reply.objects.count() == 0


def test_it_accepts_a_reply_dated_the_day_of_the_reception(gestionnaire, dossier, notary):
    received_at = timezone.now() - datetime.timedelta(days=3)
    item = register(gestionnaire, notary, dossier, received_at=received_at)
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER,
        dated=timezone.localdate(received_at),
        answers=answers_for(item, "a", "b"),
    )

    assert services.reply_send(item=item, draft=draft, by=gestionnaire).dated == draft.dated


def test_it_refuses_the_tracking_number_of_the_letter_received(gestionnaire, dossier, notary):
    item = register(gestionnaire, notary, dossier, registered=True, tracking_number="RR123456789FR")
    draft = services.ReplyDraft(
        via=Reply.Via.LETTER,
        dated=timezone.localdate(),
        answers=answers_for(item, "a", "b"),
        registered=True,
        tracking_number="rr 123456789 fr",
    )

    with pytest.raises(ValidationError, match="numéro de suivi de la lettre reçue"):
        services.reply_send(item=item, draft=draft, by=gestionnaire)

    item.refresh_from_db()
    assert Reply.objects.count() == 0 and item.answered_at is None


def _registered_reply_draft(item):
    return services.ReplyDraft(
        via=Reply.Via.LETTER,
        dated=timezone.localdate(),
        answers=answers_for(item, "a", "b"),
        registered=True,
        tracking_number="1A00000000001",
    )


@pytest.fixture
def second_letter(gestionnaire, dossier, notary):
    """Two registered letters; the first answered by a registered reply "1A00000000001"."""
    first, second = (
        register(gestionnaire, notary, dossier, registered=True, tracking_number=number)
        for number in ("RR000000001FR", "RR000000002FR")
    )
    services.reply_send(item=first, draft=_registered_reply_draft(first), by=gestionnaire)
    return second


def test_it_refuses_a_tracking_number_already_used_by_another_reply(gestionnaire, second_letter):
    second = second_letter
    with pytest.raises(ValidationError, match="déjà enregistré pour une autre lettre"):
        services.reply_send(item=second, draft=_registered_reply_draft(second), by=gestionnaire)

    second.refresh_from_db()
    assert second.answered_at is None
    assert Reply.objects.count() == 1


def test_two_replies_racing_for_one_tracking_number_are_refused_in_french_not_500(
    gestionnaire, second_letter, monkeypatch
):
    """Both passed the checks at the same moment: the database's constraint decides."""
    second = second_letter
    # The second request checked before the first one committed: its checks saw nothing.
    monkeypatch.setattr(services, "_check_reply_tracking_number_unused", lambda *args: None)
    monkeypatch.setattr(Reply, "validate_constraints", lambda self, exclude=None: None)

    with pytest.raises(ValidationError, match="déjà enregistré pour une autre lettre"):
        services.reply_send(item=second, draft=_registered_reply_draft(second), by=gestionnaire)

    second.refresh_from_db()
    assert second.answered_at is None and Reply.objects.count() == 1


def test_two_replies_never_share_a_tracking_number_in_the_database(gestionnaire, dossier, notary):
    from django.db import IntegrityError, transaction

    item = register(gestionnaire, notary, dossier)
    fields = dict(
        item=item,
        via=Reply.Via.LETTER,
        dated=timezone.localdate(),
        dossier_reference=dossier.reference,
        registered=True,
        tracking_number="1A00000000001",
        created_by=gestionnaire,
    )
    Reply.objects.create(**fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Reply.objects.create(**fields)
