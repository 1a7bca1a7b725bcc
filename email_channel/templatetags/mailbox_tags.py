from django import template
from django.db.models import Count, Q

from email_channel.models import InboundMessage, State

register = template.Library()


@register.inclusion_tag("mailbox/partials/home_gestionnaire.html")
def mailbox_gestionnaire_summary(user):
    """Emails to sort (anyone's: whoever is free sorts them) and new emails on the user's items,
    in one aggregate query (the home page stays within its query budget)."""
    return {
        "counts": InboundMessage.objects.aggregate(
            triage=Count("pk", filter=Q(state=State.TRIAGE)),
            unread=Count(
                "pk",
                filter=Q(
                    acknowledged_at=None,
                    thread_item__assigned_to=user,
                    state__in=(State.THREADED, State.AUTOMATIC),
                ),
            ),
        )
    }


@register.inclusion_tag("mailbox/partials/home_direction.html")
def mailbox_direction_summary():
    return {
        "counts": InboundMessage.objects.aggregate(
            triage=Count("pk", filter=Q(state=State.TRIAGE)),
            quarantine=Count("pk", filter=Q(state=State.QUARANTINED)),
        )
    }


@register.inclusion_tag("mailbox/partials/item_emails.html")
def item_emails(item):
    """For the item's page: the email it came from (its refused attachments, with the GED's
    reasons) and the emails threaded on it since. Two queries."""
    messages = list(
        InboundMessage.objects.filter(Q(item=item) | Q(thread_item=item))
        .defer("raw", "body")
        .prefetch_related("refused_attachments")
        .order_by("received_at", "pk")
    )
    return {
        "origin": next((m for m in messages if m.item_id == item.pk), None),
        "thread": [m for m in messages if m.thread_item_id == item.pk and m.item_id != item.pk],
    }
