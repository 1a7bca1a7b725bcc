import time
import uuid
from datetime import timedelta

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.utils import timezone

from correspondence import alerts, mail


def backoff(task, *, factor: int, maximum: int) -> int:
    """Seconds before the next retry of `task`: exponential, with full jitter, as autoretry does.

    Computed before the attempt rather than left to autoretry, because the service must know it:
    after an outage it keeps its claim for that long, so that the retry (same task id) takes the
    work back at once and the redelivery sweeps leave it alone meanwhile.
    """
    return get_exponential_backoff_interval(
        factor=factor, retries=task.request.retries, maximum=maximum, full_jitter=True
    )


def claimer_of(task) -> str:
    # The task's id is the claim's owner: kept by its retries, and by the same message
    # redelivered after its worker died (late ack), which take their work over at once.
    return task.request.id or uuid.uuid4().hex


# Backoff of deliver_reply_email after an outage: 30 s, 1 min, 2 min… up to 30 minutes, jittered.
REPLY_RETRY_BACKOFF = 30
REPLY_RETRY_BACKOFF_MAX = 1800


@shared_task(bind=True, max_retries=None)  # an SMTP outage delays the reply, it never drops it
def deliver_reply_email(self, reply_id: int) -> bool:
    countdown = backoff(self, factor=REPLY_RETRY_BACKOFF, maximum=REPLY_RETRY_BACKOFF_MAX)
    try:
        return mail.reply_deliver_email(
            reply_id=reply_id, claimer=claimer_of(self), retry_in=timedelta(seconds=countdown)
        )
    except mail.TransientEmailError as error:
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task
def sweep_unsent_replies() -> int:
    """Re-enqueue the email replies whose delivery task was lost (nothing lost if a message is)."""
    ids = mail.unsent_reply_ids(older_than=timedelta(minutes=2))
    for reply_id in ids:
        deliver_reply_email.delay(reply_id)
    return len(ids)


# --- Deadline alerts (R8, see correspondence.alerts) ------------------------------------------
@shared_task
def sweep_alerts() -> int:
    """Raise the alerts whose threshold has passed; several batches when many fall at once."""
    started = time.monotonic()
    created = 0
    while True:
        result = alerts.alerts_sweep()
        created += len(result.alert_ids)
        # Stop before the next beat tick would start another sweep (that one would be safe too).
        if result.items < alerts.SWEEP_BATCH or time.monotonic() - started > 40:
            return created


# Backoff of deliver_alerts after an outage: 15 s, 30 s, 60 s… up to 10 minutes, with jitter.
ALERT_RETRY_BACKOFF = 15
ALERT_RETRY_BACKOFF_MAX = 600


@shared_task(
    bind=True,
    # Nobody reads its result: not stored, and not subscribed to by the sweep that enqueues it.
    ignore_result=True,
    max_retries=None,  # an SMTP outage delays the alerts, it never drops them
)
def deliver_alerts(self, alert_ids: list[int]) -> int:
    countdown = backoff(self, factor=ALERT_RETRY_BACKOFF, maximum=ALERT_RETRY_BACKOFF_MAX)
    try:
        delivery = alerts.alerts_deliver(
            alert_ids=alert_ids, claimer=claimer_of(self), retry_in=timedelta(seconds=countdown)
        )
    except mail.TransientEmailError as error:
        raise self.retry(exc=error, countdown=countdown) from error
    return len(delivery.sent)


@shared_task
def redeliver_alerts() -> int:
    """Enqueue again the alerts whose delivery task was lost (nothing lost if a message is)."""
    ids = alerts.undelivered_alert_ids(older_than=timedelta(minutes=2))
    alerts.enqueue_delivery(ids)
    return len(ids)


@shared_task
def send_alert_digest() -> bool:
    """The direction's daily list of overdue items, once a day."""
    alert_id = alerts.digest_create(day=timezone.localdate())
    if alert_id is not None:
        alerts.enqueue_delivery([alert_id])
    return alert_id is not None
