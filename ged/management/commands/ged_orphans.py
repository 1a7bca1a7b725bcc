"""List, or remove with --delete, the stored files that no document references (`ged.orphans`)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ged.orphans import orphans_find, orphans_remove


class Command(BaseCommand):
    help = (
        "List the stored files that no GED document references (left by rolled-back "
        "transactions), in the day folders older than --days; remove them with --delete."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=2,
            help="Only the day folders at least this many days old (default 2, at least 1).",
        )
        parser.add_argument("--delete", action="store_true", help="Remove what is found.")

    def handle(self, *args, days, delete, **options):
        if days < 1:
            # Today's folder holds the files of transactions still running.
            raise CommandError("--days must be at least 1.")
        # The day folders are named after the UTC date of the write (`services._new_key`).
        before = timezone.now().date() - timedelta(days=days - 1)
        keys = list(orphans_find(before=before))
        for key in keys:
            self.stdout.write(key)
        if delete:
            removed = orphans_remove(keys)
            self.stdout.write(f"{removed} unreferenced file(s) removed.")
        else:
            self.stdout.write(f"{len(keys)} unreferenced file(s); --delete removes them.")
