"""The emails waiting in triage past their deadline, as a group of the direction's daily digest.

An email in triage has no item yet, hence no alert clock, but its 48 hours run from reception all
the same (issue 8, R8): the digest lists it under its own heading, with a link to the triage list.
Registered with correspondence.alerts in EmailChannelConfig.ready() (see `digest_source_register`
for why a registry).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from correspondence import deadlines
from correspondence.alerts import DigestEntry, DigestSection
from email_channel.models import InboundMessage, State


def overdue_triage_section(now: datetime) -> DigestSection | None:
    """The triage emails past their deadline, the oldest first, in one query; None if none."""
    hours = deadlines.response_hours("email")
    if hours is None:
        return None
    # Every calendar counts at most the real elapsed hours, so nothing received less than `hours`
    # ago is late: the index on the triage messages' reception picks the candidates, and the
    # deadline of each (the same computation as the item's, `InboundMessage.due_at`) decides.
    candidates = (
        InboundMessage.objects.filter(
            state=State.TRIAGE, received_at__lte=now - timedelta(hours=hours)
        )
        .only("from_name", "from_address", "subject", "received_at")
        .order_by("received_at", "pk")
    )
    entries = [
        DigestEntry(
            sender=_sender(message),
            subject=message.subject,
            received_at=message.received_at,
            due_at=message.due_at,
        )
        for message in candidates
        if message.is_overdue(now)
    ]
    if not entries:
        return None
    return DigestSection(
        title=gettext("Unsorted emails past their deadline"),
        entries=entries,
        url=settings.SITE_URL + reverse("mailbox:triage_list"),
        link_text=gettext("Emails to sort"),
    )


def _sender(message: InboundMessage) -> str:
    if message.from_name and message.from_address:
        return f"{message.from_name} <{message.from_address}>"
    return message.from_name or message.from_address
