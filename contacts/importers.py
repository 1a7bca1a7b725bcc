"""Import of the existing client base from CSV files (`manage.py import_contacts`).

One file per kind of record; the columns are documented in the README ("Import of the client
base"). Every row is created or updated by its reference through the same services as the pages,
inside its own transaction: a bad row is rejected with its line number and reason, and never
stops the others nor leaves half of itself behind.
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from contacts import services
from contacts.models import Client, Dossier, Intervenant

CREATED, UPDATED = "created", "updated"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    @property
    def total(self) -> int:
        return self.created + self.updated + len(self.rejected)


class RowError(Exception):
    """A row that cannot be imported, with a French reason."""


def _choice(value: str, choices, column: str) -> str:
    """A choice given by its code (`notary`) or its label in French or English (`Notaire`)."""
    wanted = value.strip().casefold()
    for code, label in choices:
        with translation.override("fr"):
            french = str(label)
        with translation.override("en"):
            english = str(label)
        if wanted in (code.casefold(), french.casefold(), english.casefold()):
            return code
    raise RowError(
        _("%(column)s: unknown value “%(value)s” (expected one of: %(codes)s).")
        % {"column": column, "value": value, "codes": ", ".join(code for code, _ in choices)}
    )


def _boolean(value: str, column: str) -> bool:
    wanted = value.strip().casefold()
    if wanted in ("", "1", "oui", "o", "yes", "y", "true", "vrai"):
        return True
    if wanted in ("0", "non", "n", "no", "false", "faux"):
        return False
    raise RowError(
        _("%(column)s: “%(value)s” is neither yes nor no.") % {"column": column, "value": value}
    )


def _present(row: dict, *columns: str) -> dict:
    """The values of `columns` that the file has (a missing column leaves a field unchanged)."""
    return {column: row[column] for column in columns if column in row}


def _require(row: dict, *columns: str) -> None:
    for column in columns:
        if not row.get(column):
            raise RowError(_("%(column)s: this value is required.") % {"column": column})


def import_client(row: dict) -> str:
    _require(row, "reference", "name")
    fields = _present(row, "name", "email", "phone", "address")
    if row.get("kind"):
        fields["kind"] = _choice(row["kind"], Client.Kind.choices, "kind")
    active = _boolean(row["active"], "active") if "active" in row else None
    client = Client.objects.filter(reference=row["reference"]).first()
    if client is None:
        client = services.client_create(reference=row["reference"], **fields)
        if active is False:
            services.client_update(client=client, active=False)
        return CREATED
    services.client_update(client=client, active=active, **fields)
    return UPDATED


def import_dossier(row: dict) -> str:
    _require(row, "reference", "client_reference", "property_address", "gestionnaire")
    client = Client.objects.filter(reference=row["client_reference"]).first()
    if client is None:
        raise RowError(
            _("client_reference: no client has the reference “%(value)s”.")
            % {"value": row["client_reference"]}
        )
    user = get_user_model().objects.filter(username=row["gestionnaire"]).first()
    if user is None:
        raise RowError(
            _("gestionnaire: no user has the login “%(value)s”.") % {"value": row["gestionnaire"]}
        )
    fields = _present(row, "label", "postal_code", "city")
    dossier = Dossier.objects.filter(reference=row["reference"]).first()
    if dossier is None:
        services.dossier_create(
            reference=row["reference"],
            client=client,
            property_address=row["property_address"],
            gestionnaire=user,
            **fields,
        )
        return CREATED
    services.dossier_update(
        dossier=dossier,
        client=client,
        property_address=row["property_address"],
        gestionnaire=user,
        **fields,
    )
    return UPDATED


def import_intervenant(row: dict) -> str:
    _require(row, "reference", "name", "kind")
    fields = _present(row, "name", "email", "phone", "siret", "address", "notes")
    fields["kind"] = _choice(row["kind"], Intervenant.Kind.choices, "kind")
    if row.get("category"):
        fields["category"] = _choice(row["category"], Intervenant.Category.choices, "category")
    if "channel" in row:
        fields["channel_override"] = (
            _choice(row["channel"], Intervenant.Channel.choices, "channel")
            if row["channel"]
            else ""
        )
    intervenant = Intervenant.objects.filter(reference=row["reference"]).first()
    # R3: an imported artisan is not approved; the direction approves him in the admin.
    if intervenant is None:
        services.intervenant_create(reference=row["reference"], **fields)
        return CREATED
    services.intervenant_update(intervenant=intervenant, **fields)
    return UPDATED


@dataclass(frozen=True)
class Importer:
    row: Callable[[dict], str]
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


IMPORTERS = {
    "clients": Importer(
        import_client, ("reference", "name"), ("kind", "email", "phone", "address", "active")
    ),
    "dossiers": Importer(
        import_dossier,
        ("reference", "client_reference", "property_address", "gestionnaire"),
        ("label", "postal_code", "city"),
    ),
    "intervenants": Importer(
        import_intervenant,
        ("reference", "name", "kind"),
        ("category", "channel", "email", "phone", "siret", "address", "notes"),
    ),
}


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        parts = []
        for name, errors in exc.message_dict.items():
            text = " ".join(errors)
            if name == NON_FIELD_ERRORS:
                parts.append(text)
            else:
                parts.append(_("%(column)s: %(message)s") % {"column": name, "message": text})
        return "; ".join(parts)
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def read_rows(
    text: str, *, delimiter: str | None = None
) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and the (line number, row) pairs of a CSV text; `,` or `;` guessed."""
    if delimiter is None:
        first_line = text.split("\n", 1)[0]
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = []
    line = reader.line_num + 1
    for record in reader:
        rows.append((line, record))  # extra cells, if any, are under the key None
        line = reader.line_num + 1
    return header, rows


def check_header(kind: str, header: list[str]) -> None:
    """Refuse a file whose columns are missing or unknown, before any row is read."""
    importer = IMPORTERS[kind]
    missing = [column for column in importer.required if column not in header]
    unknown = [column for column in header if column not in importer.columns]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
        if unknown:
            problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
        raise RowError(
            _(
                "The file does not have the columns of %(kind)s (%(problems)s). "
                "Expected: %(expected)s."
            )
            % {
                "kind": kind,
                "problems": "; ".join(problems),
                "expected": ", ".join(importer.columns),
            }
        )


def import_rows(
    kind: str, rows: Iterable[tuple[int, dict]], *, progress: Callable[[], None] | None = None
) -> ImportReport:
    importer = IMPORTERS[kind]
    report = ImportReport()
    for line, record in rows:
        try:
            if None in record:
                raise RowError(_("this line has more cells than the header has columns."))
            row = {key: (value or "").strip() for key, value in record.items()}
            if not any(row.values()):
                raise RowError(_("empty line."))
            with transaction.atomic():
                outcome = importer.row(row)
        except (RowError, ValidationError, DatabaseError) as exc:
            report.rejected.append((line, _reason(exc)))
        else:
            if outcome == CREATED:
                report.created += 1
            else:
                report.updated += 1
        if progress is not None:
            progress()
    return report
