"""Check the Redmine configuration against the live server and say clearly what is wrong."""

from django.core.management.base import BaseCommand, CommandError

from redmine_bridge import client, services


class Command(BaseCommand):
    help = (
        "Check REDMINE_URL, REDMINE_API_KEY, the project, tracker, role, priorities and reference "
        "field against the live Redmine. When all is well, what Redmine refused is queued again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-retry",
            action="store_true",
            help="Do not queue again what Redmine refused, even when the configuration is good.",
        )

    def handle(self, *args, no_retry=False, **options):
        client.lookups_clear()
        problems = client.check()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError("Redmine: configuration KO")
        found = client.lookups()
        self.stdout.write(
            f"Redmine OK: project {found.project_id}, tracker {found.tracker_id}, "
            f"artisan role {found.role_id}, reference field {found.reference_field_id}, "
            f"priorities {found.priority_ids}."
        )
        if not no_retry:
            # An operator's check: everything refused, the artisans' accounts included.
            counts = services.outbox_retry_failed(by=None)
            self.stdout.write(f"Queued again after a refusal: {counts}.")
