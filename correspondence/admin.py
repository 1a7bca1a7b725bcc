"""The direction's view of the correspondence in the Django admin: read-only, the pages do the work.

Everything that changes an item goes through correspondence.services (the rules live there), so
the admin lists and shows, it does not edit.
"""

from django.contrib import admin

from correspondence.models import Activity, Event, IncomingItem, Reply, RequestPoint
from gerance.lib.admin import ReadOnlyAdmin


class RequestPointInline(admin.TabularInline):
    model = RequestPoint
    extra = 0
    can_delete = False
    readonly_fields = ["position", "text"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IncomingItem)
class IncomingItemAdmin(ReadOnlyAdmin):
    list_display = [
        "subject",
        "channel",
        "kind",
        "dossier",
        "assigned_to",
        "status",
        "received_at",
        "due_at",
    ]
    list_filter = ["channel", "kind", "status", "registered"]
    search_fields = ["subject", "dossier__reference", "tracking_number"]
    list_select_related = ["dossier", "assigned_to"]
    date_hierarchy = "received_at"
    inlines = [RequestPointInline]


@admin.register(Reply)
class ReplyAdmin(ReadOnlyAdmin):
    list_display = [
        "dossier_reference",
        "via",
        "dated",
        "registered",
        "email_sent_at",
        "email_error",
    ]
    list_filter = ["via", "registered"]
    search_fields = ["dossier_reference", "tracking_number"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["label", "dossier", "destination", "occurred_at", "recorded_by"]
    list_filter = ["destination"]
    search_fields = ["label", "text", "dossier__reference"]
    list_select_related = ["dossier", "recorded_by"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["action", "item", "actor", "at"]
    list_filter = ["action"]
    list_select_related = ["item", "actor"]
