from django import template

from correspondence import alerts

register = template.Library()


@register.inclusion_tag("correspondence/partials/alerts_badge.html")
def alerts_badge(user):
    """The navigation's link to the alerts, with how many still call for an action (1 query)."""
    return {"count": alerts.badge_count(user)}
