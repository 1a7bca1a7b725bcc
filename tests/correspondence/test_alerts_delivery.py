"""R8: alerts delivered by email to a real SMTP server on 127.0.0.1: none lost, none twice."""

import threading
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import time_machine
from django.utils import timezone

from correspondence import alerts, services, tasks
from correspondence.mail import TransientEmailError
from correspondence.models import Alert, IncomingItem, Reply, Status
from tests.correspondence.alerting import RECEIVED, clock_of, make_items, register
from tests.factories import DossierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(gestionnaire, dossier, notary):
    return register(gestionnaire=gestionnaire, dossier=dossier, sender=notary, subject="Bail")


@pytest.fixture
def clock(item):
    """The item's thresholds, still at hand once the sweep has deleted its clock."""
    return clock_of(item)


def raise_alerts(moment) -> list[int]:
    with time_machine.travel(moment, tick=False):
        return alerts.alerts_sweep().alert_ids


def deliver(alert_ids, moment=None, claimer="task-1"):
    with time_machine.travel(moment or RECEIVED + timedelta(days=10), tick=False):
        return alerts.alerts_deliver(alert_ids=alert_ids, claimer=claimer)


def run_as_task(task, *args, task_id: str, retries: int = 0):
    """Run a bound task as a worker runs its message `task_id`, at its `retries`th retry.

    Called directly, a task has no id (each call would claim as a stranger), and its
    `self.retry()` raises the error it retries on, as a worker would log it.
    """
    task.push_request(id=task_id, retries=retries)
    try:
        return task.run(*args)
    finally:
        task.pop_request()


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body_of(message) -> str:
    return message.get_payload(0).get_payload(decode=True).decode()


def test_it_sends_the_warning_once_even_when_the_task_runs_twice(
    smtp_server, item, dossier, settings, clock
):
    settings.SITE_URL = "https://gerance.example"
    ids = raise_alerts(clock.warn_at)

    with time_machine.travel(clock.warn_at, tick=False):
        assert tasks.deliver_alerts(ids) == 1
        assert tasks.deliver_alerts(ids) == 0

    [sent] = smtp_server.messages
    alert = Alert.objects.get(pk=ids[0])
    assert sent["Message-ID"] == alert.message_id
    assert sent["To"] == "claire@agence.example"
    assert subject_of(sent).startswith(f"[{dossier.reference}] Échéance proche : Bail")
    body = body_of(sent)
    assert "Maître Lefèvre" in body  # the sender
    assert "12\xa0heures" in body  # the time left, in French
    assert f"https://gerance.example/courrier/{item.pk}/" in body
    html = sent.get_payload(1).get_payload(decode=True).decode()
    assert f'href="https://gerance.example/courrier/{item.pk}/"' in html
    assert alert.sent_at is not None and alert.claimed_until is None


def test_a_delivery_reads_its_alerts_in_one_query(
    smtp_server, gestionnaire, dossier, notary, django_assert_num_queries
):
    make_items(5, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    ids = raise_alerts(RECEIVED + timedelta(hours=37))  # their 5 warnings

    # Claim, read, record: nothing per alert (a field the emails read but the delivery does not
    # load would cost one query per alert).
    with django_assert_num_queries(3):
        result = deliver(ids)

    assert len(result.sent) == 5 and len(smtp_server.messages) == 5


def test_the_overdue_alert_says_by_how_much(smtp_server, item, clock):
    raise_alerts(clock.warn_at)
    ids = raise_alerts(item.due_at)

    deliver(ids, moment=item.due_at + timedelta(hours=3))

    [sent] = smtp_server.messages
    assert "3\xa0heures" in body_of(sent)


def test_the_escalation_goes_to_every_member_of_the_direction(
    smtp_server, item, direction, gestionnaire, clock
):
    from accounts.roles import Role
    from tests.factories import UserFactory

    UserFactory(username="anne", roles=[Role.DIRECTION])
    UserFactory(username="nomail", email="", roles=[Role.DIRECTION])
    UserFactory(username="paul2", email="Paul@agence.example", roles=[Role.DIRECTION])  # 1 copy
    ids = raise_alerts(clock.escalate_at)
    escalation = Alert.objects.get(pk__in=ids, kind="escalation")

    deliver([escalation.pk])

    # One message each, so that a refusal of one address is seen (see the test below).
    sent = {message["To"]: message for message in smtp_server.messages}
    assert sorted(sent) == ["anne@agence.example", "paul@agence.example"]
    assert all("Claire Martin" in body_of(m) for m in sent.values())  # the gestionnaire in charge
    escalation.refresh_from_db()
    assert escalation.sent_at is not None and escalation.email_error == ""


def test_each_member_s_copy_has_its_own_message_id_the_same_when_resent(
    smtp_server, item, direction, clock, settings
):
    from accounts.roles import Role
    from tests.factories import UserFactory

    # Long enough for the header to be folded before the id, as large ids would make it.
    settings.EMAIL_MESSAGE_ID_DOMAIN = "alertes.agence-de-gestion-immobiliere.example"
    anne = UserFactory(username="anne", roles=[Role.DIRECTION])
    ids = raise_alerts(clock.escalate_at)
    escalation = Alert.objects.get(pk__in=ids, kind="escalation")

    deliver([escalation.pk])
    # A worker dies after the server accepted them, before `sent_at` is recorded: resent.
    Alert.objects.filter(pk=escalation.pk).update(sent_at=None)
    deliver([escalation.pk], claimer="task-2")

    first, second = smtp_server.message_ids()[:2], smtp_server.message_ids()[2:]
    assert first == second  # the same copies, the same Message-IDs: de-duplicable
    local, domain = escalation.message_id.strip("<>").rsplit("@", 1)
    assert first == [f"<{local}.u{direction.pk}@{domain}>", f"<{local}.u{anne.pk}@{domain}>"]
    assert escalation.message_id not in first  # nor any other alert's: those have no `.u` part


def test_a_director_s_refused_address_is_recorded_and_the_others_get_the_escalation(
    smtp_server, item, direction, clock, as_user
):
    from accounts.roles import Role
    from tests.factories import UserFactory

    UserFactory(username="anne", email="anne@ancienne.example", roles=[Role.DIRECTION])
    smtp_server.refused_addresses["anne@ancienne.example"] = "550 5.1.1 Utilisateur inconnu"
    ids = raise_alerts(clock.escalate_at)
    escalation = Alert.objects.get(pk__in=ids, kind="escalation")

    result = deliver([escalation.pk])

    assert result.sent == [escalation.pk] and result.partly_refused.keys() == {escalation.pk}
    assert [m["To"] for m in smtp_server.messages] == ["paul@agence.example"]
    escalation.refresh_from_db()
    assert escalation.sent_at is not None  # Paul has it
    assert escalation.email_error == (
        "anne@ancienne.example : adresse refusée par le serveur de messagerie "
        "(550 5.1.1 Utilisateur inconnu)"
    )
    # Neither sent again nor lost: done, with the refusal for the direction to see.
    assert deliver([escalation.pk], claimer="task-2").sent == []
    assert alerts.undelivered_alert_ids(older_than=timedelta(0)) == []
    response = as_user(direction).get("/courrier/alertes/?refused=1")
    assert [alert.pk for alert in response.context["page"]] == [escalation.pk]
    page = response.content.decode()
    assert "refusé pour certains destinataires" in page
    assert "anne@ancienne.example : adresse refusée" in page


def test_a_temporary_refusal_of_a_recipient_is_retried_not_recorded(smtp_server, item, clock):
    ids = raise_alerts(clock.warn_at)
    smtp_server.refused_addresses["claire@agence.example"] = "452 4.2.2 Boîte pleine"

    with pytest.raises(TransientEmailError):
        deliver(ids, moment=clock.warn_at)

    alert = Alert.objects.get(pk=ids[0])
    assert alert.email_error == "" and alert.sent_at is None
    assert alert.claimed_by == "task-1"  # kept for the retry


def test_a_full_mailbox_of_one_director_does_not_resend_the_escalation_to_the_others(
    smtp_server, item, direction, clock
):
    from accounts.roles import Role
    from tests.factories import UserFactory

    UserFactory(username="anne", email="anne@agence.example", roles=[Role.DIRECTION])
    smtp_server.refused_addresses["anne@agence.example"] = "452 4.2.2 Boîte pleine"
    ids = raise_alerts(clock.escalate_at)
    escalation = Alert.objects.get(pk__in=ids, kind="escalation")

    result = deliver([escalation.pk])

    assert result.sent == [escalation.pk]
    assert [m["To"] for m in smtp_server.messages] == ["paul@agence.example"]
    escalation.refresh_from_db()
    assert escalation.sent_at is not None and "anne@agence.example" in escalation.email_error
    # Paul is not sent the same escalation again for as long as Anne's mailbox stays full.
    assert deliver([escalation.pk], claimer="task-2").sent == []
    assert alerts.undelivered_alert_ids(older_than=timedelta(0)) == []
    assert len(smtp_server.messages) == 1


def test_it_records_a_permanent_refusal_and_delivers_the_others(
    smtp_server, gestionnaire, other_gestionnaire, dossier, notary
):
    register(gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    register(gestionnaire=other_gestionnaire, dossier=dossier, sender=notary)
    smtp_server.refused_addresses["marc@agence.example"] = "550 5.1.1 Adresse inconnue"
    ids = raise_alerts(RECEIVED + timedelta(hours=37))

    result = deliver(ids)

    assert len(result.sent) == 1 and len(result.refused) == 1
    assert [m["To"] for m in smtp_server.messages] == ["claire@agence.example"]
    refused = Alert.objects.get(recipient=other_gestionnaire)
    assert refused.email_error == (
        "marc@agence.example : adresse refusée par le serveur de messagerie "
        "(550 5.1.1 Adresse inconnue)"
    )
    assert refused.sent_at is None and refused.claimed_until is None
    # Not retried: neither by the task again nor by the redelivery sweep.
    assert deliver(ids).sent == []
    assert alerts.undelivered_alert_ids(older_than=timedelta(0)) == []


def test_an_alert_without_any_address_is_refused_for_a_person_to_fix(smtp_server, item, clock):
    ids = raise_alerts(clock.escalate_at)  # nobody in the direction
    escalation = Alert.objects.get(pk__in=ids, kind="escalation")

    deliver([escalation.pk])

    escalation.refresh_from_db()
    assert escalation.email_error == ("Aucun membre actif de la direction n’a d’adresse e-mail.")


def test_a_gestionnaire_without_an_address_is_named_in_the_refusal(
    smtp_server, item, clock, gestionnaire
):
    type(gestionnaire).objects.filter(pk=gestionnaire.pk).update(email="")
    ids = raise_alerts(clock.warn_at)

    deliver(ids)

    assert Alert.objects.get(pk=ids[0]).email_error == "Claire Martin n’a pas d’adresse e-mail."


def test_the_smtp_server_stopped_during_delivery_then_restarted_loses_and_repeats_nothing(
    smtp_server, gestionnaire, dossier, notary
):
    make_items(300, gestionnaire=gestionnaire, dossier=dossier, sender=notary)
    ids = raise_alerts(RECEIVED + timedelta(hours=37))
    stopped = threading.Event()

    def stop_at_the_101st(mailbox):
        if len(mailbox.messages) == 100 and not stopped.is_set():
            stopped.set()
            # The server goes down in the middle of the batch (stop() joins the server's own
            # thread, so it runs beside it); this message is turned away meanwhile.
            threading.Thread(target=mailbox.server.stop).start()
            return "421 4.3.2 Service shutting down"
        return None

    smtp_server.on_message = stop_at_the_101st
    with pytest.raises(TransientEmailError):
        run_as_task(tasks.deliver_alerts, ids, task_id="task-1")
    stopped.wait(5)
    assert Alert.objects.filter(sent_at__isnull=False).count() == 100
    # The other 200 stay the task's until its retry: nobody else takes them meanwhile.
    held = Alert.objects.filter(sent_at=None)
    assert held.filter(claimed_by="task-1", claimed_until__gt=timezone.now()).count() == 200
    assert alerts.undelivered_alert_ids(older_than=timedelta(0)) == []

    with pytest.raises(TransientEmailError):  # the retry while the server is down
        run_as_task(tasks.deliver_alerts, ids, task_id="task-1", retries=1)
    smtp_server.server.start()  # back, on the same port
    assert run_as_task(tasks.deliver_alerts, ids, task_id="task-1", retries=2) == 200

    sent_ids = smtp_server.message_ids()
    assert len(sent_ids) == 300
    assert set(sent_ids) == set(Alert.objects.values_list("message_id", flat=True))
    assert not Alert.objects.filter(sent_at=None).exists()


def test_it_leaves_alerts_claimed_by_another_task_alone(smtp_server, item, clock):
    ids = raise_alerts(clock.warn_at)
    Alert.objects.filter(pk__in=ids).update(
        claimed_until=timezone.now() + timedelta(days=30), claimed_by="task-A"
    )

    assert deliver(ids, claimer="task-B").sent == []
    assert smtp_server.messages == []
    # The same task, redelivered after its worker died, takes them over at once.
    assert len(deliver(ids, claimer="task-A").sent) == 1


def test_a_claim_left_by_a_dead_worker_expires_and_the_redelivery_sweep_finds_it(
    smtp_server, item, clock
):
    ids = raise_alerts(clock.warn_at)
    Alert.objects.filter(pk__in=ids).update(
        claimed_until=timezone.now() - timedelta(seconds=1),
        claimed_by="dead",
        created_at=timezone.now() - timedelta(minutes=5),
    )

    assert alerts.undelivered_alert_ids(older_than=timedelta(minutes=2)) == ids
    assert len(deliver(ids, moment=timezone.now(), claimer="task-B").sent) == 1
    assert alerts.undelivered_alert_ids(older_than=timedelta(minutes=2)) == []


# --- An SMTP outage: the task's own retry, not the redelivery sweep -----------------------------
@pytest.fixture
def outage(smtp_server, item, clock, monkeypatch):
    """The warning's delivery by task-1 failed at 21:01 with the server down; retry in 8 min.

    Yields the moment of the failure; `enqueued` collects what the redelivery sweep hands on.
    """
    ids = raise_alerts(clock.warn_at)
    smtp_server.server.stop()
    failed_at = clock.warn_at + timedelta(minutes=1)
    with time_machine.travel(failed_at, tick=False), pytest.raises(TransientEmailError):
        alerts.alerts_deliver(alert_ids=ids, claimer="task-1", retry_in=timedelta(minutes=8))
    enqueued = []
    monkeypatch.setattr(alerts, "enqueue_delivery", enqueued.extend)
    return {"ids": ids, "failed_at": failed_at, "enqueued": enqueued, "smtp": smtp_server}


def test_an_outage_keeps_the_claim_through_the_backoff_so_no_task_piles_up(outage):
    [alert] = Alert.objects.filter(pk__in=outage["ids"])
    hold_until = outage["failed_at"] + timedelta(minutes=8) + alerts.RETRY_MARGIN
    assert alert.claimed_by == "task-1" and alert.claimed_until == hold_until
    # Every redelivery sweep of the backoff (beat's, every 5 minutes) leaves the alert alone.
    for minutes in (2, 5, 10, 13):
        moment = outage["failed_at"] + timedelta(minutes=minutes) - timedelta(seconds=1)
        with time_machine.travel(moment, tick=False):
            assert tasks.redeliver_alerts() == 0
    assert outage["enqueued"] == []


def test_the_retry_of_the_same_task_delivers_what_the_outage_left(outage):
    outage["smtp"].server.start()  # back, on the same port
    retry_at = outage["failed_at"] + timedelta(minutes=8)

    assert deliver(outage["ids"], moment=retry_at, claimer="task-2").sent == []  # not another's
    assert deliver(outage["ids"], moment=retry_at, claimer="task-1").sent == outage["ids"]
    assert len(outage["smtp"].messages) == 1


def test_a_retry_lost_with_its_worker_is_redelivered_once_the_claim_expires(outage):
    outage["smtp"].server.start()
    expired = outage["failed_at"] + timedelta(minutes=8) + alerts.RETRY_MARGIN
    expired += timedelta(seconds=1)

    with time_machine.travel(expired, tick=False):
        assert tasks.redeliver_alerts() == 1
    assert outage["enqueued"] == outage["ids"]
    assert deliver(outage["ids"], moment=expired, claimer="task-2").sent == outage["ids"]
    assert len(outage["smtp"].messages) == 1


def test_the_task_keeps_the_claim_for_its_own_backoff(smtp_server, item, clock, monkeypatch):
    ids = raise_alerts(clock.warn_at)
    smtp_server.server.stop()
    asked = {}

    def fixed_backoff(*, factor, retries, maximum, full_jitter):
        asked.update(factor=factor, retries=retries, maximum=maximum)
        return 240

    monkeypatch.setattr(tasks, "get_exponential_backoff_interval", fixed_backoff)
    with time_machine.travel(clock.warn_at, tick=False), pytest.raises(TransientEmailError):
        run_as_task(tasks.deliver_alerts, ids, task_id="task-9", retries=3)

    assert asked == {"factor": 15, "retries": 3, "maximum": 600}
    alert = Alert.objects.get(pk=ids[0])
    assert alert.claimed_by == "task-9"
    assert alert.claimed_until == clock.warn_at + timedelta(seconds=240) + alerts.RETRY_MARGIN


def test_the_redelivery_task_run_twice_sends_each_alert_once(smtp_server, item, monkeypatch, clock):
    ids = raise_alerts(clock.warn_at)
    Alert.objects.filter(pk__in=ids).update(created_at=timezone.now() - timedelta(minutes=5))
    enqueued = []
    monkeypatch.setattr(alerts, "enqueue_delivery", enqueued.append)

    assert tasks.redeliver_alerts() == 1
    assert tasks.redeliver_alerts() == 1
    for batch in enqueued:
        tasks.deliver_alerts(batch)

    assert len(smtp_server.messages) == 1


def test_an_item_answered_before_its_alert_leaves_cancels_the_email(
    smtp_server, item, gestionnaire, clock
):
    ids = raise_alerts(clock.warn_at)
    IncomingItem.objects.filter(pk=item.pk).update(original_filed_at=RECEIVED)
    with time_machine.travel(clock.warn_at + timedelta(minutes=1), tick=False):
        services.reply_send(
            item=item,
            by=gestionnaire,
            draft=services.ReplyDraft(
                via=Reply.Via.LETTER,
                dated=timezone.localdate(),
                answers={point.pk: "Ci-joint." for point in item.points.all()},
            ),
        )

    result = deliver(ids)

    assert result.cancelled == ids and result.sent == []
    assert smtp_server.messages == []
    assert Alert.objects.get(pk=ids[0]).cancelled_at is not None
    assert alerts.undelivered_alert_ids(older_than=timedelta(0)) == []


def test_the_daily_digest_lists_every_overdue_item_by_gestionnaire(
    smtp_server, gestionnaire, other_gestionnaire, direction, dossier, notary
):
    other_dossier = DossierFactory(client=dossier.client, gestionnaire=other_gestionnaire)
    late = RECEIVED - timedelta(days=4)
    register(
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=late,
        subject="Succession A",
    )
    register(
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=late,
        subject="Succession B",
    )
    register(
        gestionnaire=other_gestionnaire,
        dossier=other_dossier,
        sender=notary,
        received_at=late,
        subject="Succession C",
    )
    register(gestionnaire=gestionnaire, dossier=dossier, sender=notary, subject="Pas en retard")
    answered = register(
        gestionnaire=gestionnaire,
        dossier=dossier,
        sender=notary,
        received_at=late,
        subject="Déjà répondu",
    )
    IncomingItem.objects.filter(pk=answered.pk).update(
        answered_at=RECEIVED, status=Status.ANSWERED, original_filed_at=RECEIVED
    )
    sent = []
    with time_machine.travel(RECEIVED + timedelta(hours=1), tick=False):
        import correspondence.alerts as module

        original = module.enqueue_delivery
        module.enqueue_delivery = sent.extend
        try:
            assert tasks.send_alert_digest() is True
            assert tasks.send_alert_digest() is False  # once a day
        finally:
            module.enqueue_delivery = original
        tasks.deliver_alerts(sent)

    [digest] = smtp_server.messages
    assert digest["To"] == "paul@agence.example"
    assert subject_of(digest) == "Réponses en retard au 30/11/2026 : 3 éléments"
    body = body_of(digest)
    for subject in ("Succession A", "Succession B", "Succession C"):
        assert subject in body
    assert "Pas en retard" not in body and "Déjà répondu" not in body
    # Grouped by gestionnaire: Claire Martin's two items, then Marc Petit's.
    assert (
        body.index("Claire Martin (2)") < body.index("Succession A") < body.index("Marc Petit (1)")
    )
    assert body.index("Marc Petit (1)") < body.index("Succession C")
    assert Alert.objects.get(kind="digest").sent_at is not None


def test_no_digest_when_nothing_is_overdue(item):
    with time_machine.travel(RECEIVED + timedelta(hours=1), tick=False):
        assert alerts.digest_create(day=timezone.localdate()) is None
    assert not Alert.objects.filter(kind="digest").exists()
