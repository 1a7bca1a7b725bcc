from datetime import timedelta

from celery import shared_task

from correspondence import mail


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
