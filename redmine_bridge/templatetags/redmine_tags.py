"""Template tags showing the Redmine side of the client base's pages."""

from django import template

from redmine_bridge import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def redmine_account(context, intervenant):
    """The artisan's ArtisanAccount, or None.

    In a list (the contacts pages paginate into `page`), the accounts of the whole page are read
    in one query on the first call, so the page keeps a constant number of queries.
    """
    if intervenant is None or not (intervenant.approved_at or intervenant.refused_at):
        return None
    # Kept on the request: each {% include %} of the partial has its own render context.
    request = context.get("request")
    cache = getattr(request, "_redmine_accounts", None)
    if cache is None or intervenant.pk not in cache:
        page = context.get("page")
        ids = {intervenant.pk}
        if page is not None and hasattr(page, "object_list"):
            ids |= {getattr(obj, "pk", None) for obj in page.object_list} - {None}
        cache = {**(cache or {}), **dict.fromkeys(ids)}
        cache.update(selectors.artisan_accounts_for(ids))
        if request is not None:
            request._redmine_accounts = cache
    return cache.get(intervenant.pk)


@register.inclusion_tag("redmine_bridge/partials/item_work_requests.html", takes_context=True)
def item_work_requests(context, item):
    """For the item's page: the work requests asked from it, and the way to ask one (one query)."""
    return {
        "item": item,
        "work_requests": selectors.item_work_requests(item),
        "perms": context.get("perms"),
    }
