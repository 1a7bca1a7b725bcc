"""Writes to the client base. Views, admin actions, the CSV import and the demo all call these."""

import re
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import (
    ArtisanDecision,
    Client,
    Dossier,
    DossierSequence,
    Intervenant,
    Mandate,
)
from contacts.signals import artisan_approved, artisan_withdrawn

CLIENT_FIELDS = ("reference", "name", "kind", "email", "phone", "address")
DOSSIER_FIELDS = (
    "client",
    "label",
    "property_address",
    "postal_code",
    "city",
    "gestionnaire",
)
INTERVENANT_FIELDS = (
    "reference",
    "name",
    "kind",
    "category",
    "channel_override",
    "email",
    "phone",
    "siret",
    "address",
    "notes",
)
MANDATE_FIELDS = ("direction", "valid_from", "valid_until", "scope")

APPROVE_PERMISSION = "accounts.approve_artisan"
PROPOSE_PERMISSION = "contacts.change_intervenant"


def _set_fields(instance, changes: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields for {type(instance).__name__}: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(instance, name, value)


# --- Clients --------------------------------------------------------------------------------
def client_create(*, reference: str, name: str, **fields) -> Client:
    """Register a client in the client base. `fields`: kind, email, phone, address."""
    client = Client(reference=reference, name=name)
    _set_fields(client, fields, CLIENT_FIELDS)
    client.full_clean()
    client.save()
    return client


def client_update(*, client: Client, active: bool | None = None, **changes) -> Client:
    """Change a client's details; `active=False` takes him out of the base from now on."""
    _set_fields(client, changes, CLIENT_FIELDS)
    if active is True:
        client.deactivated_at = None
    elif active is False and client.deactivated_at is None:
        client.deactivated_at = timezone.now()
    client.full_clean()
    client.save()
    return client


# --- Dossiers -------------------------------------------------------------------------------
DOSSIER_REFERENCE = "D-{year}-{number:05d}"
DOSSIER_REFERENCE_PATTERN = re.compile(r"D-(?P<year>[0-9]{4})-(?P<number>[0-9]{1,9})")


def _next_dossier_number(year: int) -> int:
    """The next number of `year`, taken under the sequence row's lock until the commit.

    Race-safe: the UPDATE locks the year's row, so a concurrent creation waits for our commit
    and then reads the next number; never max()+1, which two creations would read alike.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_next_dossier_number must run inside a transaction.")
    if not DossierSequence.objects.filter(year=year).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                DossierSequence.objects.create(year=year, last=1)
            return 1
        except IntegrityError:  # another transaction created the year's row first
            DossierSequence.objects.filter(year=year).update(last=F("last") + 1)
    return DossierSequence.objects.values_list("last", flat=True).get(year=year)


def dossier_reference_next(*, year: int | None = None) -> str:
    """A free reference D-<year>-<number>; call it inside the transaction that uses it."""
    year = year or timezone.localdate().year
    while True:
        reference = DOSSIER_REFERENCE.format(year=year, number=_next_dossier_number(year))
        # An imported dossier may already carry this reference: take the next number.
        if not Dossier.objects.filter(reference=reference).exists():
            return reference


def _sequence_catch_up(reference: str) -> None:
    """Move the sequence past an imported D-<year>-<number>, so that it is never handed out."""
    match = DOSSIER_REFERENCE_PATTERN.fullmatch(reference)
    if not match:
        return
    year, number = int(match["year"]), int(match["number"])
    if not DossierSequence.objects.filter(year=year).exists():
        try:
            with transaction.atomic():
                DossierSequence.objects.create(year=year, last=0)
        except IntegrityError:  # created meanwhile by another transaction
            pass
    DossierSequence.objects.filter(year=year, last__lt=number).update(last=number)


def dossier_create(*, client: Client, property_address: str, gestionnaire, **fields) -> Dossier:
    """Open a dossier with a new reference. `fields`: label, postal_code, city, reference.

    A `reference` is only given by the import of an existing base; otherwise it is generated.
    """
    reference = fields.pop("reference", "")
    dossier = Dossier(client=client, property_address=property_address, gestionnaire=gestionnaire)
    _set_fields(dossier, fields, DOSSIER_FIELDS)
    with transaction.atomic():
        if reference:
            dossier.reference = reference
            dossier.full_clean()
            _sequence_catch_up(reference)
        else:
            dossier.reference = dossier_reference_next()
            dossier.full_clean()
        dossier.save()
    return dossier


def dossier_update(*, dossier: Dossier, **changes) -> Dossier:
    _set_fields(dossier, changes, DOSSIER_FIELDS)
    dossier.full_clean()
    dossier.save()
    return dossier


# --- Intervenants ---------------------------------------------------------------------------
def _save_intervenant(intervenant: Intervenant) -> Intervenant:
    if not intervenant.category:
        intervenant.category = Intervenant.default_category(intervenant.kind)
    intervenant.full_clean()
    try:
        with transaction.atomic():
            intervenant.save()
    except IntegrityError:
        # Two saves raced past clean(): the unique constraints refused the second one. Run the
        # validation again, now that the first one is visible, for the message naming it.
        intervenant.full_clean()
        raise
    return intervenant


def intervenant_create(*, name: str, kind: str, **fields) -> Intervenant:
    """Register an intervenant. `category` defaults to the one of his kind (R2).

    `fields`: reference, category, channel_override, email, phone, siret, address, notes.
    """
    intervenant = Intervenant(name=name, kind=kind)
    _set_fields(intervenant, fields, INTERVENANT_FIELDS)
    return _save_intervenant(intervenant)


def intervenant_update(*, intervenant: Intervenant, **changes) -> Intervenant:
    _set_fields(intervenant, changes, INTERVENANT_FIELDS)
    if "kind" in changes and "category" not in changes:
        allowed = Intervenant.KIND_CATEGORIES.get(intervenant.kind, ())
        if intervenant.category not in allowed:
            intervenant.category = Intervenant.default_category(intervenant.kind)
    return _save_intervenant(intervenant)


# --- Artisan approval (R3) ------------------------------------------------------------------
def _require_technical(intervenant: Intervenant) -> None:
    if not intervenant.is_technical:
        raise ValidationError(
            _(
                "Only a technical intervenant (artisan, company, expert…) can be approved; "
                "“%(name)s” is not one."
            )
            % {"name": intervenant.name}
        )


def _record_decision(intervenant: Intervenant, decision: str, by, at, reason: str = ""):
    record = ArtisanDecision(
        intervenant=intervenant, decision=decision, decided_by=by, decided_at=at, reason=reason
    )
    record.full_clean()
    record.save()
    return record


def artisan_propose(*, intervenant: Intervenant, by) -> Intervenant:
    """A gestionnaire proposes a technical intervenant to the direction for approval (R3)."""
    if not by.has_perm(PROPOSE_PERMISSION):
        raise PermissionDenied(_("You may not propose an artisan."))
    _require_technical(intervenant)
    if intervenant.approved_at:
        raise ValidationError(_("“%(name)s” is already approved.") % {"name": intervenant.name})
    now = timezone.now()
    with transaction.atomic():
        # Claim: only one of two simultaneous proposals records a decision.
        claimed = (
            Intervenant.objects.filter(pk=intervenant.pk, approved_at=None)
            .filter(Q(proposed_at=None) | Q(refused_at__isnull=False))
            .update(proposed_at=now, proposed_by=by, refused_at=None, updated_at=now)
        )
        if not claimed:
            raise ValidationError(
                _("“%(name)s” is already awaiting the direction's approval.")
                % {"name": intervenant.name}
            )
        _record_decision(intervenant, ArtisanDecision.Decision.PROPOSED, by, now)
    intervenant.refresh_from_db()
    return intervenant


def artisan_approve(*, intervenant: Intervenant, by) -> Intervenant:
    """The direction approves a technical intervenant; the Redmine bridge is told after commit.

    R3: "une fois l'agrément de l'artisan validé par la Direction, l'artisan sera enregistré
    dans la base de données (login et redmine)".
    """
    if not by.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied(_("Only the direction can approve an artisan."))
    _require_technical(intervenant)
    if intervenant.approved_at:
        raise ValidationError(_("“%(name)s” is already approved.") % {"name": intervenant.name})
    now = timezone.now()
    with transaction.atomic():
        # Claim: of two direction members approving at once, one records the approval.
        claimed = Intervenant.objects.filter(
            pk=intervenant.pk, approved_at=None, category=Intervenant.Category.TECHNICAL
        ).update(approved_at=now, approved_by=by, refused_at=None, updated_at=now)
        if not claimed:
            raise ValidationError(_("“%(name)s” is already approved.") % {"name": intervenant.name})
        _record_decision(intervenant, ArtisanDecision.Decision.APPROVED, by, now)
        _send_after_commit(artisan_approved, intervenant.pk)
    intervenant.refresh_from_db()
    return intervenant


def artisan_refuse(*, intervenant: Intervenant, by, reason: str) -> Intervenant:
    """The direction refuses a technical intervenant, saying why (R3)."""
    if not by.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied(_("Only the direction can refuse an artisan."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the refusal.")})
    _require_technical(intervenant)
    if intervenant.approved_at:
        raise ValidationError(_("“%(name)s” is already approved.") % {"name": intervenant.name})
    now = timezone.now()
    with transaction.atomic():
        claimed = Intervenant.objects.filter(
            pk=intervenant.pk, approved_at=None, refused_at=None
        ).update(refused_at=now, updated_at=now)
        if not claimed:
            raise ValidationError(
                _("“%(name)s” has already been approved or refused.") % {"name": intervenant.name}
            )
        _record_decision(intervenant, ArtisanDecision.Decision.REFUSED, by, now, reason)
        _send_after_commit(artisan_withdrawn, intervenant.pk)
    intervenant.refresh_from_db()
    return intervenant


def artisan_revoke(*, intervenant: Intervenant, by, reason: str) -> Intervenant:
    """The direction withdraws an artisan's approval, saying why (R3).

    He can no longer receive work requests, and the Redmine bridge locks his Redmine account
    after the commit. He may be proposed and approved again later.
    """
    if not by.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied(_("Only the direction can revoke an artisan's approval."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the revocation.")})
    now = timezone.now()
    with transaction.atomic():
        claimed = Intervenant.objects.filter(pk=intervenant.pk, approved_at__isnull=False).update(
            approved_at=None, approved_by=None, refused_at=now, updated_at=now
        )
        if not claimed:
            raise ValidationError(_("“%(name)s” is not approved.") % {"name": intervenant.name})
        _record_decision(intervenant, ArtisanDecision.Decision.REVOKED, by, now, reason)
        _send_after_commit(artisan_withdrawn, intervenant.pk)
    intervenant.refresh_from_db()
    return intervenant


def _send_after_commit(signal, intervenant_id: int) -> None:
    # After the commit, so that a receiver (the Redmine bridge) always sees the decision;
    # robust, so that a failing receiver never makes a committed decision look failed.
    transaction.on_commit(
        lambda: signal.send(sender=Intervenant, intervenant_id=intervenant_id), robust=True
    )


# --- Mandates (R1) --------------------------------------------------------------------------
def mandate_create(
    *,
    intervenant: Intervenant,
    client: Client,
    direction: str,
    valid_from: date,
    by,
    valid_until: date | None = None,
    scope: str = "",
    proof_file=None,
) -> Mandate:
    """Record a mandate, and store its proof in the GED when a file is given.

    The mandate is validated first, so that a bad mandate stores no file; if the GED then
    refuses the file, the new mandate is removed again and the GED's message raised: nothing
    is left half-done.
    """
    mandate = Mandate(
        intervenant=intervenant,
        client=client,
        direction=direction,
        valid_from=valid_from,
        valid_until=valid_until,
        scope=scope,
        created_by=by,
    )
    mandate.full_clean()
    mandate.save()
    if proof_file is not None:
        try:
            mandate_attach_proof(mandate=mandate, file=proof_file, by=by)
        except Exception:
            mandate.delete()
            raise
    return mandate


def mandate_update(*, mandate: Mandate, by, proof_file=None, **changes) -> Mandate:
    """Change a mandate still in force; a revoked mandate is history and stays as it was."""
    if mandate.revoked_at is not None:
        raise ValidationError(_("A revoked mandate can no longer be changed."))
    if "direction" in changes and changes["direction"] != mandate.direction:
        # R1: the signed proof says "by" or "for" the client; the other way is a new mandate.
        raise ValidationError(
            {
                "direction": _(
                    "A mandate keeps its direction (by or for the client): record a new mandate."
                )
            }
        )
    _set_fields(mandate, changes, MANDATE_FIELDS)
    mandate.full_clean()
    mandate.save()
    if proof_file is not None:
        mandate_attach_proof(mandate=mandate, file=proof_file, by=by)
    return mandate


def mandate_attach_proof(*, mandate: Mandate, file, by) -> Mandate:
    """Store `file` in the GED as the proof of `mandate` (a new proof replaces the old one)."""
    from ged.services import document_store

    # Storage I/O happens outside any transaction of ours (the GED manages its own). A new
    # proof is a new version of the old one: the GED never forgets the replaced scan.
    document = document_store(file=file, owner=mandate, added_by=by, previous=mandate.proof)
    Mandate.objects.filter(pk=mandate.pk).update(proof=document, updated_at=timezone.now())
    mandate.proof = document
    return mandate


def mandate_revoke(*, mandate: Mandate, by, reason: str) -> Mandate:
    """End a mandate now, saying why. A mandate is revoked once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the revocation.")})
    now = timezone.now()
    claimed = Mandate.objects.filter(pk=mandate.pk, revoked_at=None).update(
        revoked_at=now, revoked_by=by, revocation_reason=reason, updated_at=now
    )
    if not claimed:
        raise ValidationError(_("This mandate has already been revoked."))
    mandate.refresh_from_db()
    return mandate
