from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from contacts.importers import IMPORTERS, RowError, check_header, import_rows, read_rows

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import clients, dossiers or intervenants from a CSV file: create or update each row by "
        "its reference, each row in its own transaction, then report what was created, updated "
        "and rejected (with line numbers). The columns are listed in the README."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS), help="what the file holds")
        parser.add_argument("path", type=Path, help="the CSV file (UTF-8, with a header line)")
        parser.add_argument(
            "--delimiter", default=None, help="the column separator (default: guessed, , or ;)"
        )
        parser.add_argument(
            "--encoding", default="utf-8-sig", help="the file's encoding (default: UTF-8)"
        )
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, kind, path, delimiter, encoding, no_progress, **options):
        try:
            text = path.read_text(encoding=encoding)
        except FileNotFoundError as exc:
            raise CommandError(_("No such file: %(path)s") % {"path": path}) from exc
        except (UnicodeDecodeError, LookupError) as exc:
            raise CommandError(
                _("Cannot read %(path)s as %(encoding)s: %(error)s")
                % {"path": path, "encoding": encoding, "error": exc}
            ) from exc
        header, rows = read_rows(text, delimiter=delimiter)
        try:
            check_header(kind, header)
        except RowError as exc:
            raise CommandError(str(exc)) from exc

        progress = None if no_progress else self._progress_bar(len(rows))
        report = import_rows(kind, rows, progress=progress)
        if progress is not None:
            self.stderr.write("")

        self.stdout.write(
            _(
                "%(path)s: %(total)d rows, %(created)d created, %(updated)d updated, "
                "%(rejected)d rejected."
            )
            % {
                "path": path.name,
                "total": report.total,
                "created": report.created,
                "updated": report.updated,
                "rejected": len(report.rejected),
            }
        )
        for line, reason in report.rejected:
            self.stdout.write(
                self.style.ERROR(_("line %(line)d: %(reason)s") % {"line": line, "reason": reason})
            )

    def _progress_bar(self, total: int):
        done = 0
        stream = self.stderr

        def advance():
            nonlocal done
            done += 1
            filled = BAR_WIDTH * done // max(total, 1)
            stream.write(
                f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}", ending=""
            )
            stream.flush()

        return advance
