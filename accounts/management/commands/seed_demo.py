import importlib

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Create or refresh the demo data (users, then each app's objects). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even though DEBUG is off (the demo users have well-known passwords).",
        )

    def handle(self, *args, allow_without_debug=False, **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "Refusing to create demo users with known passwords while DEBUG is off "
                "(use --allow-without-debug on a demonstration server)."
            )
        self.stdout.write("Demo accounts:")  # run-dev.sh prints the address
        # Each app may ship a `demo` module with `seed(stdout)`; accounts comes first in
        # INSTALLED_APPS so the users exist before the objects that refer to them.
        for app_config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app_config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(self.stdout)
