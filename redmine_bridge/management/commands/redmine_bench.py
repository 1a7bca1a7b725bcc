"""Benchmark the push of work requests to the real Redmine against a plain python-redmine loop.

1. The floor: a plain loop creating COUNT issues with python-redmine, nothing else.
2. Ours: COUNT work requests enqueued on the real broker and pushed by a real Celery worker
   (one process, solo pool: the same single line of requests as the floor), each with its claim,
   its database writes and its reference field.
3. Redmine is then read back: each work request's reference must be on exactly one issue.
Target: our throughput ≥ 0.7 × the floor, and exactly COUNT issues. Writes rows (a dossier, an
artisan, the work requests): run it on a bench database, as `make bench` does.
"""

import collections
import os
import subprocess
import sys
import time
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contacts.models import Client, Dossier, Intervenant
from redmine_bridge import client, services
from redmine_bridge.models import WorkRequest
from redmine_bridge.tasks import push_work_request

TARGET_RATIO = 0.7


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=500)
        parser.add_argument("--timeout", type=int, default=900, help="seconds for our pushes")
        parser.add_argument("--output", default="", help="also write the results to this file")

    def handle(self, *args, count, timeout, output, **options):
        if not client.is_configured():
            raise CommandError("Set REDMINE_URL and REDMINE_API_KEY (scripts/redmine.sh start).")
        problems = client.check()
        if problems:
            raise CommandError(" ".join(problems))
        found = client.lookups()
        redmine = client._redmine()
        started_at = timezone.now()

        work_requests = self._work_requests(count)
        floor_seconds = self._floor(redmine, found, work_requests)
        ours_seconds = self._ours(work_requests, timeout)
        issues = self._read_back(work_requests, started_at)

        floor_rate, ours_rate = count / floor_seconds, count / ours_seconds
        ratio = ours_rate / floor_rate
        met = issues == count and ratio >= TARGET_RATIO
        report = (
            f"# make bench: Redmine bridge — {timezone.localtime():%Y-%m-%d %H:%M %Z}\n\n"
            f"{count} work requests pushed by a real Celery worker (solo pool) to a pristine real "
            "Redmine (scripts/redmine.sh), beside a plain python-redmine loop creating the same "
            f"issues. {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end.\n\n"
            "| Redmine push | issues | seconds | issues/s |\n| --- | --- | --- | --- |\n"
            f"| plain python-redmine loop (floor) | {count} | {floor_seconds:.1f} | "
            f"{floor_rate:.1f} |\n"
            f"| work requests, real worker | {issues} | {ours_seconds:.1f} | {ours_rate:.1f} |\n"
            f"\nratio {ratio:.2f} (target ≥ {TARGET_RATIO}); issues {issues} (expected {count}): "
            f"target {'met' if met else 'NOT met'}.\n"
        )
        self.stdout.write("\n" + report)
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(report)
        if not met:
            raise CommandError("Redmine bench: target missed")

    def _floor(self, redmine, found, work_requests: list[WorkRequest]) -> float:
        """The same issues (subject, description, priority, assignee), python-redmine alone."""
        assignee = work_requests[0].artisan.redmine_account.redmine_user_id
        payloads = [
            {
                "project_id": found.project_id,
                "tracker_id": found.tracker_id,
                "subject": w.subject(),
                "description": services._issue_description(w),
                "priority_id": found.priority_ids[w.redmine_priority],
                "assigned_to_id": assignee,
                "custom_fields": [
                    {"id": found.reference_field_id, "value": f"floor-{w.reference}"}
                ],
            }
            for w in work_requests
        ]
        started = time.monotonic()
        for payload in payloads:
            redmine.issue.create(**payload)
        return time.monotonic() - started

    def _work_requests(self, count: int) -> list[WorkRequest]:
        tag = uuid.uuid4().hex[:8]
        user = get_user_model().objects.create_user(f"bench-{tag}", first_name="Bench")
        the_client = Client.objects.create(reference=f"BENCH-{tag}", name="Client du bench")
        dossier = Dossier.objects.create(
            reference=f"D-BENCH-{tag}",
            client=the_client,
            property_address="1 rue du Bench",
            gestionnaire=user,
        )
        artisan = Intervenant.objects.create(
            name=f"Artisan du bench {tag}",
            category=Intervenant.Category.TECHNICAL,
            kind=Intervenant.Kind.ARTISAN,
            email=f"bench-{tag}@exemple.fr",
            approved_at=timezone.now(),
            approved_by=user,
        )
        account = services.artisan_account_request(intervenant_id=artisan.pk)
        if not services.artisan_account_push(account_id=account.pk).done:
            raise CommandError("The bench artisan's Redmine account could not be created.")
        return WorkRequest.objects.bulk_create(
            WorkRequest(
                dossier=dossier,
                artisan=artisan,
                description=f"Travaux du bench n° {n}",
                place="Hall",
                requested_by=user,
            )
            for n in range(count)
        )

    def _ours(self, work_requests: list[WorkRequest], timeout: int) -> float:
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "gerance",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=redmine-bench-{os.getpid()}@%h",
            ],
            cwd=settings.BASE_DIR,
        )
        try:
            pks = [w.pk for w in work_requests]
            pending = WorkRequest.objects.filter(pk__in=pks, pushed_at=None)
            time.sleep(3)  # the worker connects to the broker
            started = time.monotonic()
            for pk in pks:
                push_work_request.delay(pk)
            while pending.exists():
                if worker.poll() is not None:
                    raise CommandError("The Celery worker exited.")
                if time.monotonic() - started > timeout:
                    raise CommandError(f"{pending.count()} work requests not pushed in {timeout} s")
                time.sleep(0.05)
            return time.monotonic() - started
        finally:
            worker.terminate()
            worker.wait(timeout=60)

    def _read_back(self, work_requests: list[WorkRequest], since) -> int:
        """How many of our work requests are on exactly one issue (each reference once)."""
        seen = collections.Counter(issue.reference for issue in client.issues_updated_since(since))
        references = {str(w.reference) for w in work_requests}
        twice = [r for r in references if seen[r] > 1]
        if twice:
            raise CommandError(f"{len(twice)} work requests have more than one issue")
        return sum(1 for r in references if seen[r] == 1)
