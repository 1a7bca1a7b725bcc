"""Prepare Redmine for the bridge: the project, its tracker and the reference field."""

from django.core.management.base import BaseCommand, CommandError

from redmine_bridge import client


class Command(BaseCommand):
    help = (
        "Create the Redmine project if missing and enable in it the tracker and the custom field "
        "carrying our references (the field itself is created by a Redmine administrator: the "
        "REST API cannot; this command says how). Then check the whole configuration."
    )

    def handle(self, *args, **options):
        try:
            done = client.project_setup()
        except client.RedmineError as exc:
            raise CommandError(str(exc)) from exc
        for line in done or ["Nothing to change."]:
            self.stdout.write(line)
        problems = client.check()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError("Redmine: configuration KO")
        self.stdout.write("Redmine OK.")
