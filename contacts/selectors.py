"""Reads of the client base that carry a rule or must stay at a constant number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from contacts.models import (
    ApprovalState,
    ArtisanDecision,
    Client,
    Dossier,
    Intervenant,
    Mandate,
    MandateStatus,
)


@dataclass(frozen=True)
class MandateCheck:
    """The answer to "is this intervenant duly mandated for this client at this moment?" (R1)."""

    ok: bool
    reason: str  # French, shown to the gestionnaire as is
    mandate: Mandate | None = None

    def __bool__(self) -> bool:
        return self.ok


# When an intervenant holds several mandates for the client, the one that explains the answer
# best: a valid one, else one that only lacks its proof, else the most recent failure.
_STATUS_PRIORITY = [
    MandateStatus.VALID,
    MandateStatus.NO_PROOF,
    MandateStatus.REVOKED,
    MandateStatus.EXPIRED,
    MandateStatus.FUTURE,
]


def _date(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def mandate_check(
    *, intervenant: Intervenant, client: Client, at: datetime, mandates: list | None = None
) -> MandateCheck:
    """Whether `intervenant` is duly mandated by, or for, `client` at the aware datetime `at`.

    R1, "dûment mandaté par, ou pour, un client enregistré dans la base login". The intervenant
    is duly mandated when all of these hold:
    1. the client is registered and active at `at`;
    2. a mandate links this intervenant to this client, in either direction (by or for);
    3. that mandate is in force on `at`'s local date (valid_from ≤ day ≤ valid_until), and was
       not revoked at or before `at`;
    4. its proof (the signed mandate) is stored in the GED: a mandate nobody can produce is not
       a due mandate, so a mandate without proof answers `ok=False` with its own reason.
    One query (two when the intervenant holds no mandate for this client); none when the caller
    passes `mandates`, all the intervenant's mandates newest first (a batch read them at once).
    """
    if not client.is_active_at(at):
        return MandateCheck(
            ok=False,
            reason=_("The client %(client)s is no longer active in the client base.")
            % {"client": client},
        )
    if mandates is None:
        held = list(Mandate.objects.filter(intervenant=intervenant, client=client))
        elsewhere = bool(held) or (
            Mandate.objects.filter(intervenant=intervenant).exclude(client=client).exists()
        )
    else:
        held = [m for m in mandates if m.client_id == client.pk]
        elsewhere = any(m.client_id != client.pk for m in mandates)
    mandates = held
    if not mandates:
        if elsewhere:
            reason = _("%(intervenant)s is mandated for other clients, not by or for %(client)s.")
        else:
            reason = _("%(intervenant)s holds no mandate by or for the client %(client)s.")
        return MandateCheck(
            ok=False, reason=reason % {"intervenant": intervenant, "client": client}
        )

    by_status: dict[str, Mandate] = {}
    for mandate in mandates:  # ordered newest first: the first one of each status wins
        by_status.setdefault(mandate.status_at(at), mandate)
    status = next(s for s in _STATUS_PRIORITY if s in by_status)
    mandate = by_status[status]
    params = {"client": client, "intervenant": intervenant}

    if status == MandateStatus.VALID:
        if mandate.direction == Mandate.Direction.BY:
            reason = _("%(intervenant)s is mandated by the client %(client)s")
        else:
            reason = _("%(intervenant)s is mandated for the client %(client)s")
        reason = reason % params
        if mandate.valid_until:
            reason += " " + _("until %(date)s") % {"date": _date(mandate.valid_until)}
        return MandateCheck(ok=True, reason=reason + ".", mandate=mandate)
    if status == MandateStatus.NO_PROOF:
        reason = _("No proof of the mandate in the GED.")
    elif status == MandateStatus.REVOKED:
        reason = _("The mandate was revoked on %(date)s: %(reason)s") % {
            "date": _date(mandate.revoked_at),
            "reason": mandate.revocation_reason,
        }
    elif status == MandateStatus.EXPIRED:
        reason = _("The mandate expired on %(date)s.") % {"date": _date(mandate.valid_until)}
    else:
        reason = _("The mandate only takes effect on %(date)s.") % {
            "date": _date(mandate.valid_from)
        }
    return MandateCheck(ok=False, reason=reason, mandate=mandate)


def approval_state_q(state: str) -> Q:
    """The filter matching `Intervenant.approval_state == state`, for one SQL query."""
    return {
        ApprovalState.APPROVED: Q(approved_at__isnull=False),
        ApprovalState.REFUSED: Q(approved_at=None, refused_at__isnull=False),
        ApprovalState.PENDING: Q(approved_at=None, refused_at=None, proposed_at__isnull=False),
        ApprovalState.NOT_PROPOSED: Q(approved_at=None, refused_at=None, proposed_at=None),
    }[state]


def intervenant_search(
    *, query: str = "", kind: str = "", category: str = "", approval_state: str = ""
) -> QuerySet[Intervenant]:
    """Intervenants matching a name (or email, SIRET, reference), a kind, a category, a state."""
    intervenants = Intervenant.objects.all()
    query = query.strip()
    if query:
        intervenants = intervenants.filter(
            Q(name__icontains=query)
            | Q(email__icontains=query)
            | Q(reference__iexact=query)
            | Q(siret=query.replace(" ", ""))
        )
    if kind:
        intervenants = intervenants.filter(kind=kind)
    if category:
        intervenants = intervenants.filter(category=category)
    if approval_state:
        intervenants = intervenants.filter(approval_state_q(approval_state))
    return intervenants.order_by("name", "pk")


def pending_artisans() -> QuerySet[Intervenant]:
    """R3: the intervenants proposed to the direction and not yet decided, oldest first."""
    return (
        Intervenant.objects.filter(approval_state_q(ApprovalState.PENDING))
        .select_related("proposed_by")
        .order_by("proposed_at", "pk")
    )


def client_search(*, query: str = "", active_only: bool = False) -> QuerySet[Client]:
    clients = Client.objects.all()
    query = query.strip()
    if query:
        clients = clients.filter(
            Q(name__icontains=query) | Q(reference__iexact=query) | Q(email__icontains=query)
        )
    if active_only:
        clients = clients.filter(deactivated_at=None)
    return clients.order_by("name", "pk")


def dossier_search(*, query: str = "", gestionnaire=None) -> QuerySet[Dossier]:
    dossiers = Dossier.objects.select_related("client", "gestionnaire")
    query = query.strip()
    if query:
        dossiers = dossiers.filter(
            Q(reference__iexact=query)
            | Q(reference__icontains=query)
            | Q(label__icontains=query)
            | Q(property_address__icontains=query)
            | Q(city__icontains=query)
            | Q(client__name__icontains=query)
            | Q(client__reference__iexact=query)
        )
    if gestionnaire is not None:
        dossiers = dossiers.filter(gestionnaire=gestionnaire)
    return dossiers.order_by("-created_at", "-pk")


def intervenant_mandates(intervenant: Intervenant) -> QuerySet[Mandate]:
    return intervenant.mandates.select_related("client", "revoked_by", "proof")


def intervenant_decisions(intervenant: Intervenant) -> QuerySet[ArtisanDecision]:
    return intervenant.decisions.select_related("decided_by")


def client_dossiers(client: Client) -> QuerySet[Dossier]:
    return client.dossiers.select_related("gestionnaire").order_by("-created_at", "-pk")


def client_mandates(client: Client) -> QuerySet[Mandate]:
    return client.mandates.select_related("intervenant", "revoked_by", "proof")
