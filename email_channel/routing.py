"""Where a message belongs: a thread of ours, a sender and a dossier, or the triage list.

Reads only; the decisions are applied by `mailbox.services`.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from contacts.models import Client, Dossier, Intervenant, Mandate, MandateStatus
from contacts.services import DOSSIER_REFERENCE_PATTERN
from correspondence.models import Channel, IncomingItem, Reply
from email_channel.models import InboundMessage, State
from email_channel.parsing import ParsedEmail

# "Re:", "RE :", "Réf :", "TR:", "Fwd:"… at the start of a subject.
_REPLY_PREFIX = ("re:", "re :", "aw:", "sv:", "ré:", "réf:", "tr:", "fw:", "fwd:")


@dataclass(frozen=True)
class Destination:
    sender: Intervenant | Client | None = None
    dossier: Dossier | None = None
    reason: str = ""  # why the message goes to triage


def referenced_dossiers(subject: str) -> list[Dossier]:
    """Dossiers whose reference (D-2026-00042) appears in the subject (R5: every letter has it)."""
    references = {match.group(0) for match in DOSSIER_REFERENCE_PATTERN.finditer(subject)}
    if not references:
        return []
    return list(Dossier.objects.filter(reference__in=references).select_related("gestionnaire"))


def thread_item(parsed: ParsedEmail) -> IncomingItem | None:
    """The item this message answers: by In-Reply-To/References (and the ids a report quotes),
    else by the dossier reference in a reply's subject, from the same sender."""
    ids = parsed.thread_ids
    if ids:
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
        for message_id in ids:  # the closest reference first
            if message_id in found:
                return found[message_id]
    if parsed.subject.lower().startswith(_REPLY_PREFIX):
        dossiers = referenced_dossiers(parsed.subject)
        if len(dossiers) == 1:
            return (
                IncomingItem.objects.filter(dossier=dossiers[0], channel=Channel.EMAIL)
                .filter(
                    Q(sender_intervenant__email__iexact=parsed.from_address)
                    | Q(sender_client__email__iexact=parsed.from_address)
                )
                .order_by("-received_at", "-pk")
                .first()
            )
    return None


def _dossiers_of(sender, at) -> list[Dossier]:
    """The open dossiers an email from `sender` may concern: a client's own; for an intervenant,
    those of the clients he holds a mandate with, the mandates in force first (R1)."""
    if isinstance(sender, Client):
        return list(sender.dossiers.filter(closed_at=None).select_related("gestionnaire"))
    mandates = list(Mandate.objects.filter(intervenant=sender))
    valid = {m.client_id for m in mandates if m.status_at(at) == MandateStatus.VALID}
    clients = valid or {m.client_id for m in mandates}
    return list(
        Dossier.objects.filter(client_id__in=clients, closed_at=None).select_related("gestionnaire")
    )


def destination(parsed: ParsedEmail, *, at) -> Destination:
    """The sender and dossier of a new request, or the reason why a person must choose them."""
    address = parsed.from_address
    senders: list = list(Intervenant.objects.filter(email__iexact=address)[:1])
    senders += list(Client.objects.filter(email__iexact=address, deactivated_at=None)[:10])
    if not senders:
        return Destination(
            reason=_("Unknown sender: %(address)s is not in the client base.")
            % {"address": address}
        )
    referenced = referenced_dossiers(parsed.subject)
    if len(referenced) == 1:
        dossier = referenced[0]
        matching = [s for s in senders if dossier in _dossiers_of(s, at)]
        if len(matching) == 1 or len(senders) == 1:
            # R1 is checked by the registration itself; a refusal sends the message to triage.
            return Destination(sender=(matching or senders)[0], dossier=dossier)
        return Destination(
            reason=_("Several contacts share the address %(address)s.") % {"address": address}
        )
    pairs = [(sender, dossier) for sender in senders for dossier in _dossiers_of(sender, at)]
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
