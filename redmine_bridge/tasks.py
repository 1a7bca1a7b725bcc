"""Celery tasks of the Redmine bridge: ids in, a service call, the outcome out.

A push that meets a transient error (Redmine down, timeout, 5xx) retries itself with backoff,
without limit; the row also records its next attempt, so the sweep enqueues it again if the
retry message is lost. Permanent errors are recorded on the row by the service.
"""

from celery import shared_task

from redmine_bridge import client, services


def _push(task, outcome: services.Outcome) -> bool:
    if outcome.retry_in is not None:
        raise task.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.done


@shared_task(bind=True, max_retries=None)
def push_work_request(self, work_request_id: int) -> bool:
    return _push(self, services.work_request_push(work_request_id=work_request_id))


@shared_task(bind=True, max_retries=None)
def push_issue_note(self, note_id: int) -> bool:
    return _push(self, services.issue_note_push(note_id=note_id))


@shared_task(bind=True, max_retries=None)
def push_artisan_account(self, account_id: int) -> bool:
    return _push(self, services.artisan_account_push(account_id=account_id))


@shared_task
def sweep_outbox() -> dict[str, int]:
    return services.outbox_sweep()


@shared_task
def pull_issues() -> dict[str, int]:
    try:
        return services.issues_pull()
    except client.RedmineError as exc:
        # The next beat tick pulls again from the same cursor; the error is on the cursor.
        return {"error": str(exc)}
