from django import template

from mailbox import selectors
from mailbox.models import InboundMessage, Mailbox, State

register = template.Library()


@register.inclusion_tag("mailbox/partials/home_gestionnaire.html")
def mailbox_gestionnaire_summary(user):
    """Emails to sort (everyone's: whoever is free sorts them) and replies on the user's items."""
    return {
        "triage_count": InboundMessage.objects.filter(state=State.TRIAGE).count(),
        "unread": list(selectors.unread_thread_messages(user=user)[:10]),
    }


@register.inclusion_tag("mailbox/partials/home_direction.html")
def mailbox_direction_summary():
    return {
        "triage_count": InboundMessage.objects.filter(state=State.TRIAGE).count(),
        "quarantine_count": InboundMessage.objects.filter(state=State.QUARANTINED).count(),
        "failing": list(Mailbox.objects.exclude(last_error="").order_by("name")),
    }
