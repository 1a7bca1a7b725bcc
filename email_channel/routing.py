"""Where a message belongs: a thread of ours, a sender and a dossier, or the triage list.

Reads only; the decisions are applied by `mailbox.services`.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Client, Dossier, Intervenant, Mandate, MandateStatus
from contacts.services import DOSSIER_REFERENCE_PATTERN
from correspondence.models import Channel, IncomingItem, Reply
from email_channel.models import InboundMessage, State
from email_channel.parsing import AutomaticKind, ParsedEmail

# A reply's prefix at the start of a subject: "Re:", "RE :" (French spacing), and the German
# and Scandinavian "AW:", "SV:". Not "Réf :", with which French correspondents open a new
# letter about a dossier, nor "TR:"/"Fwd:": a forward is a new message too.
_REPLY_PREFIX = re.compile(r"\s*(re|aw|sv)\s*:", re.IGNORECASE)
# A reply recognised by its subject alone (no In-Reply-To/References of ours) joins an item
# still open, or answered less than this long ago. Older, the sender's "RE:" on an old thread
# is a new request: threaded on a closed item, it would have no deadline and no reader.
SUBJECT_THREAD_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Destination:
    sender: Intervenant | Client | None = None
    dossier: Dossier | None = None
    reason: str = ""  # why the message goes to triage


def _references(subject: str) -> set[str]:
    return {match.group(0) for match in DOSSIER_REFERENCE_PATTERN.finditer(subject)}


def _is_reply(subject: str) -> bool:
    return _REPLY_PREFIX.match(subject) is not None


class Directory:
    """The rows routing reads, for a batch of messages: a constant number of queries (plus
    one per dossier and sender of the replies recognised by their subject alone).

    Built from the batch's parsed messages (`Directory(parsed_list, at=...)`), it reads the
    senders, their mandates and dossiers, the dossiers named in subjects and the items the
    messages may answer, all at once; what is not preloaded is read on demand and kept. The
    routing rules (`thread_item`, `destination`) are the same for one message or a thousand.
    `note_*` records what the batch itself creates, so that a reply later in the same batch
    finds the item registered earlier in it (as it would have, one message at a time).
    """

    def __init__(self, messages: list[ParsedEmail] = ()):
        self._senders: dict[str, list] = {}
        self._dossiers_by_reference: dict[str, Dossier] = {}
        self._mandates: dict[int, list[Mandate]] = {}
        self._client_dossiers: dict[int, list[Dossier]] = {}
        self._threads: dict[str, IncomingItem] = {}
        self._looked_up: set[str] = set()  # Message-IDs and references already searched for
        self._latest: dict[tuple[int, str], IncomingItem | None] = {}
        self._noted: dict[tuple[int, str], IncomingItem] = {}
        if messages:
            self._preload(list(messages))

    # --- reads, in bulk --------------------------------------------------------------------

    def _preload(self, messages: list[ParsedEmail]) -> None:
        addresses = {m.from_address.lower() for m in messages if m.from_address}
        self._load_senders(addresses)
        references = set().union(*(_references(m.subject) for m in messages))
        self._load_references(references)
        self._load_threads({i for m in messages for i in m.thread_ids})

    def _load_senders(self, addresses: set[str]) -> None:
        if not addresses:
            return
        found: dict[str, list] = {address: [] for address in addresses}
        intervenants = Intervenant.objects.alias(email_lower=Lower("email")).filter(
            email_lower__in=addresses
        )
        # Every intervenant of the address: the database makes an address unique today, but
        # routing must not pick one of two silently (an import, a constraint dropped, case
        # folding that differs between PostgreSQL and Python): several make it ambiguous.
        for intervenant in intervenants:
            bucket = found.setdefault(intervenant.email.lower(), [])
            if sum(isinstance(s, Intervenant) for s in bucket) < 10:
                bucket.append(intervenant)
        clients = Client.objects.alias(email_lower=Lower("email")).filter(
            email_lower__in=addresses, deactivated_at=None
        )
        for client in clients:
            bucket = found.setdefault(client.email.lower(), [])
            if sum(isinstance(s, Client) for s in bucket) < 10:
                bucket.append(client)
        self._senders.update(found)
        intervenant_ids = [s.pk for b in found.values() for s in b if isinstance(s, Intervenant)]
        client_ids = {s.pk for b in found.values() for s in b if isinstance(s, Client)}
        for intervenant_id in intervenant_ids:
            self._mandates[intervenant_id] = []
        for mandate in Mandate.objects.filter(intervenant_id__in=intervenant_ids):
            self._mandates[mandate.intervenant_id].append(mandate)  # newest first, as ordered
            client_ids.add(mandate.client_id)
        self._load_client_dossiers(client_ids)

    def _load_client_dossiers(self, client_ids: set[int]) -> None:
        client_ids = client_ids - set(self._client_dossiers)
        if not client_ids:
            return
        for client_id in client_ids:
            self._client_dossiers[client_id] = []
        for dossier in Dossier.objects.filter(
            client_id__in=client_ids, closed_at=None
        ).select_related("gestionnaire", "client"):
            self._client_dossiers[dossier.client_id].append(dossier)

    def _load_references(self, references: set[str]) -> None:
        references = references - self._looked_up
        self._looked_up |= references
        if references:
            for dossier in Dossier.objects.filter(reference__in=references).select_related(
                "gestionnaire", "client"
            ):
                self._dossiers_by_reference[dossier.reference] = dossier

    def _load_threads(self, ids: set[str]) -> None:
        ids = ids - self._looked_up
        self._looked_up |= ids
        if not ids:
            return
        found: dict[str, IncomingItem] = {}
        for reply in Reply.objects.filter(message_id__in=ids).select_related("item"):
            found.setdefault(reply.message_id, reply.item)
        for item in IncomingItem.objects.filter(message_id__in=ids):
            found.setdefault(item.message_id, item)
        for message in (
            InboundMessage.objects.filter(dedupe_key__in=ids)
            .exclude(state=State.DUPLICATE)
            .select_related("item", "thread_item")
        ):
            if message.item or message.thread_item:
                found.setdefault(message.dedupe_key, message.item or message.thread_item)
        self._threads.update(found)

    # --- what routing asks -----------------------------------------------------------------

    def senders(self, address: str) -> list:
        """The intervenants, then the active clients, of an address (at most ten of each):
        more than one sender makes the address ambiguous (see `destination`)."""
        key = address.lower()
        if key not in self._senders:
            self._load_senders({key})
        return self._senders.get(key, [])

    def referenced_dossiers(self, subject: str) -> list[Dossier]:
        """Dossiers whose reference (D-2026-00042) is in the subject (R5: every letter has it)."""
        references = _references(subject)
        self._load_references(references)
        return [
            self._dossiers_by_reference[r] for r in references if r in self._dossiers_by_reference
        ]

    def mandates(self, intervenant: Intervenant) -> list[Mandate]:
        """All the intervenant's mandates, newest first (for R1's `mandate_check`)."""
        if intervenant.pk not in self._mandates:
            self._mandates[intervenant.pk] = list(Mandate.objects.filter(intervenant=intervenant))
            self._load_client_dossiers({m.client_id for m in self._mandates[intervenant.pk]})
        return self._mandates[intervenant.pk]

    def client_dossiers(self, client_id: int) -> list[Dossier]:
        self._load_client_dossiers({client_id})
        return self._client_dossiers[client_id]

    def item_answered(self, ids: list[str]) -> IncomingItem | None:
        """The item one of these Message-IDs belongs to, the closest reference first."""
        self._load_threads(set(ids))
        return next((self._threads[i] for i in ids if i in self._threads), None)

    def latest_email_item(self, dossier: Dossier, address: str) -> IncomingItem | None:
        """The sender's latest email item in the dossier (in the database or in this batch)
        still open or answered within SUBJECT_THREAD_WINDOW."""
        key = (dossier.pk, address.lower())
        if key not in self._latest:
            recent = timezone.now() - SUBJECT_THREAD_WINDOW
            self._latest[key] = (
                IncomingItem.objects.filter(dossier=dossier, channel=Channel.EMAIL)
                .filter(
                    Q(sender_intervenant__email__iexact=address)
                    | Q(sender_client__email__iexact=address)
                )
                .filter(Q(answered_at=None, closed_at=None) | Q(answered_at__gte=recent))
                .order_by("-received_at", "-pk")
                .first()
            )
        stored, noted = self._latest[key], self._noted.get(key)
        if stored is None or (noted is not None and noted.received_at >= stored.received_at):
            return noted
        return stored

    def note_item(self, item: IncomingItem, *, message_id: str, address: str) -> None:
        """An item this batch registers: later replies in the batch may thread on it."""
        if message_id:
            self._threads.setdefault(message_id, item)
        if item.channel == Channel.EMAIL and address:
            key = (item.dossier_id, address.lower())
            current = self._noted.get(key)
            if current is None or item.received_at >= current.received_at:
                self._noted[key] = item

    def note_thread(self, dedupe_key: str, item: IncomingItem) -> None:
        """A message of this batch shown on `item`'s thread (its Message-ID leads there too)."""
        if dedupe_key:
            self._threads.setdefault(dedupe_key, item)


def automatic_kind(parsed: ParsedEmail, *, directory: Directory | None = None) -> str:
    """Why the message needs no answer, or "" when a person may expect one.

    Bulk or list headers (Precedence, List-Unsubscribe) from a sender we know, an intervenant
    or a client matched by address as `destination` does, are a person writing through a
    mailing tool (a syndic's extranet, a notary's software): read like any email. From anyone
    else they are mass mail. The other kinds come from headers only automatic mail carries.
    """
    kind = parsed.automatic_kind
    if kind == AutomaticKind.BULK and (directory or Directory()).senders(parsed.from_address):
        return ""
    return kind


def referenced_dossiers(subject: str, *, directory: Directory | None = None) -> list[Dossier]:
    return (directory or Directory()).referenced_dossiers(subject)


def thread_item(parsed: ParsedEmail, *, directory: Directory | None = None) -> IncomingItem | None:
    """The item this message answers: by In-Reply-To/References (and the ids a report quotes),
    else by the dossier reference in a reply's subject ("RE:"), from the same sender, on an
    item still open or recently answered (SUBJECT_THREAD_WINDOW)."""
    directory = directory or Directory()
    ids = parsed.thread_ids
    if ids:
        item = directory.item_answered(ids)
        if item is not None:
            return item
    if _is_reply(parsed.subject):
        dossiers = directory.referenced_dossiers(parsed.subject)
        if len(dossiers) == 1:
            return directory.latest_email_item(dossiers[0], parsed.from_address)
    return None


def _dossiers_of(sender, at, directory: Directory) -> list[Dossier]:
    """The open dossiers an email from `sender` may concern: a client's own; for an intervenant,
    those of the clients he holds a mandate with, the mandates in force first (R1)."""
    if isinstance(sender, Client):
        return directory.client_dossiers(sender.pk)
    mandates = directory.mandates(sender)
    valid = {m.client_id for m in mandates if m.status_at(at) == MandateStatus.VALID}
    clients = valid or {m.client_id for m in mandates}
    return [d for client_id in sorted(clients) for d in directory.client_dossiers(client_id)]


def destination(parsed: ParsedEmail, *, at, directory: Directory | None = None) -> Destination:
    """The sender and dossier of a new request, or the reason why a person must choose them."""
    directory = directory or Directory()
    address = parsed.from_address
    senders = directory.senders(address)
    if not senders:
        return Destination(
            reason=_("Unknown sender: %(address)s is not in the client base.")
            % {"address": address}
        )
    referenced = directory.referenced_dossiers(parsed.subject)
    if len(referenced) == 1:
        dossier = referenced[0]
        matching = [s for s in senders if dossier in _dossiers_of(s, at, directory)]
        if len(matching) == 1 or len(senders) == 1:
            # R1 is checked by the registration itself; a refusal sends the message to triage.
            return Destination(sender=(matching or senders)[0], dossier=dossier)
        return Destination(
            reason=_("Several contacts share the address %(address)s.") % {"address": address}
        )
    pairs = [
        (sender, dossier) for sender in senders for dossier in _dossiers_of(sender, at, directory)
    ]
    if len(pairs) == 1:
        return Destination(sender=pairs[0][0], dossier=pairs[0][1])
    if not pairs:
        return Destination(
            reason=_("No open dossier for %(sender)s.") % {"sender": senders[0]}
            if len(senders) == 1
            else _("Several contacts share the address %(address)s.") % {"address": address}
        )
    return Destination(
        reason=_("The sender matches %(count)s dossiers: %(references)s.")
        % {
            "count": len(pairs),
            "references": ", ".join(sorted({dossier.reference for _s, dossier in pairs}))[:500],
        }
    )
