"""The beat task that reads the mailboxes (every minute by default, see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from email_channel import services


@shared_task
def poll_mailboxes() -> dict:
    """Take new messages from every configured mailbox; safe when two run at once.

    Outages are not retried here: the messages stay on the server and the next beat takes them.
    """
    results = services.mailboxes_poll()
    return {
        result.mailbox: {
            "claimed": result.claimed,
            "taken": result.taken,
            "archived": result.archived,
            "failed": result.failed,
            "sent_copies": result.sent_copies,
            "error": result.error,
            "states": result.states,
        }
        for result in results
    }
