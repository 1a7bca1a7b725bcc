"""`{% load contacts_tags %}`: display helpers of the client base; the direction's home section."""

from django import template

from contacts import selectors
from contacts.models import MandateStatus
from contacts.validators import format_phone, format_siret

register = template.Library()

# Badge colour of each mandate state (classes of static/css/gerance.css).
_STATUS_BADGES = {
    MandateStatus.VALID: "ok",
    MandateStatus.NO_PROOF: "warn",
    MandateStatus.FUTURE: "warn",
    MandateStatus.EXPIRED: "danger",
    MandateStatus.REVOKED: "danger",
}
PENDING_ARTISANS_SHOWN = 10


@register.filter
def phone(value: str) -> str:
    return format_phone(value)


@register.filter
def siret(value: str) -> str:
    return format_siret(value)


@register.inclusion_tag("contacts/partials/mandate_status.html")
def mandate_status(mandate, at):
    """The badge of `mandate`'s state at `at` (no query)."""
    status = mandate.status_at(at)
    return {"status": status, "label": MandateStatus(status).label, "badge": _STATUS_BADGES[status]}


@register.inclusion_tag("contacts/partials/pending_artisans.html", takes_context=True)
def pending_artisans(context):
    """R3: the artisans awaiting the direction's approval (one query, whatever their number)."""
    rows = list(selectors.pending_artisans()[: PENDING_ARTISANS_SHOWN + 1])
    return {
        "artisans": rows[:PENDING_ARTISANS_SHOWN],
        "more": len(rows) > PENDING_ARTISANS_SHOWN,
        "user": context.get("user"),
    }
