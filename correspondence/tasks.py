import time
import uuid
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from correspondence import alerts, mail


@shared_task(
    autoretry_for=(mail.TransientEmailError,),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=None,  # an SMTP outage delays the reply, it never drops it
)
def deliver_reply_email(reply_id: int) -> bool:
    return mail.reply_deliver_email(reply_id=reply_id)


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


@shared_task(
    bind=True,
    # Nobody reads its result: not stored, and not subscribed to by the sweep that enqueues it.
    ignore_result=True,
    autoretry_for=(mail.TransientEmailError,),
    retry_backoff=15,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=None,  # an SMTP outage delays the alerts, it never drops them
)
def deliver_alerts(self, alert_ids: list[int]) -> int:
    # The task's id is the claim's owner: the same message redelivered after its worker died
    # (late ack) takes its alerts over at once instead of waiting for the claim to expire.
    claimer = self.request.id or uuid.uuid4().hex
    return len(alerts.alerts_deliver(alert_ids=alert_ids, claimer=claimer).sent)


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
