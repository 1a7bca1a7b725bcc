"""Reads of the email channel, each list in a constant number of queries."""

from django.db.models import QuerySet

from contacts.models import Client, Dossier, Intervenant, Mandate
from correspondence.models import IncomingItem
from email_channel.models import InboundMessage, Mailbox, State

# Lists never load the raw bytes of quarantined messages nor the full texts.
_LIST_DEFERRED = ("raw", "body", "last_error")


def triage_list() -> QuerySet[InboundMessage]:
    """Messages waiting for a person to choose their dossier, the oldest (most urgent) first."""
    return (
        InboundMessage.objects.filter(state=State.TRIAGE)
        .select_related("mailbox")
        .defer(*_LIST_DEFERRED)
        .order_by("received_at", "pk")
    )


def quarantine_list() -> QuerySet[InboundMessage]:
    return (
        InboundMessage.objects.filter(state=State.QUARANTINED)
        .select_related("mailbox")
        .defer(*_LIST_DEFERRED)
        .order_by("-received_at", "-pk")
    )


def unread_thread_messages(*, user) -> QuerySet[InboundMessage]:
    """Replies and automatic messages that arrived on the user's items and are not read yet."""
    return (
        InboundMessage.objects.filter(
            acknowledged_at=None,
            thread_item__assigned_to=user,
            state__in=(State.THREADED, State.AUTOMATIC),
        )
        .select_related("thread_item__dossier")
        .defer(*_LIST_DEFERRED)
        .order_by("-received_at", "-pk")
    )


UNLINKED_AUTOMATIC_SHOWN = 50


def unlinked_automatic_messages() -> QuerySet[InboundMessage]:
    """Automatic messages tied to none of our items and not read yet, the newest first.

    No item means no gestionnaire's home shows them: a bounce of a letter sent by hand, an
    absence, a newsletter must still meet someone's eyes (they may hide a real request).
    """
    return (
        InboundMessage.objects.filter(state=State.AUTOMATIC, thread_item=None, acknowledged_at=None)
        .defer(*_LIST_DEFERRED)
        .order_by("-received_at", "-pk")
    )


def message_detail(pk: int) -> InboundMessage:
    return (
        InboundMessage.objects.select_related(
            "mailbox",
            "item__dossier",
            "thread_item__dossier",
            "duplicate_of",
            "resolved_by",
        )
        .defer("raw")
        .prefetch_related("refused_attachments")
        .get(pk=pk)
    )


def mailboxes() -> QuerySet[Mailbox]:
    return Mailbox.objects.order_by("name")


def sender_candidates(*, address: str, dossier: Dossier | None) -> list[Intervenant | Client]:
    """Whom a message may be registered from: the contacts with its address, and for a chosen
    dossier its client and the intervenants holding a mandate with that client (R1)."""
    candidates: list = []
    if address:
        candidates += list(Intervenant.objects.filter(email__iexact=address)[:5])
        candidates += list(Client.objects.filter(email__iexact=address)[:5])
    if dossier is not None:
        candidates.append(dossier.client)
        mandated = Intervenant.objects.filter(
            pk__in=Mandate.objects.filter(client_id=dossier.client_id).values("intervenant")
        ).order_by("name")[:100]
        candidates += list(mandated)
    unique = {}
    for candidate in candidates:
        unique.setdefault((type(candidate).__name__, candidate.pk), candidate)
    return list(unique.values())


def dossier_candidates(*, address: str) -> list[Dossier]:
    """The open dossiers of the contacts with this address, to suggest on the triage form."""
    if not address:
        return []
    clients = Client.objects.filter(email__iexact=address).values("pk")
    mandated = Mandate.objects.filter(intervenant__email__iexact=address).values("client")
    return list(
        Dossier.objects.filter(closed_at=None, client__in=clients.union(mandated))
        .select_related("client")
        .order_by("reference")[:50]
    )


THREAD_CANDIDATES = 30


def thread_candidates(dossier) -> list[IncomingItem]:
    """The dossier's latest items, which a sorted email may follow up (one query)."""
    return list(
        IncomingItem.objects.filter(dossier=dossier)
        .only("pk", "subject", "received_at", "status", "channel", "dossier_id")
        .order_by("-received_at", "-pk")[:THREAD_CANDIDATES]
    )


def item_for_attach(value: str) -> IncomingItem | None:
    if not value.isdigit():
        return None
    return IncomingItem.objects.filter(pk=value).first()
