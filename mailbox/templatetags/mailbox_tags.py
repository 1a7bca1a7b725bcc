from django import template
from django.db.models import Count, Q

from mailbox.models import InboundMessage, State

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
