from django.contrib import admin

from gerance.lib.admin import ReadOnlyAdmin
from redmine_bridge.models import ArtisanAccount, IssueNote, SyncCursor, WorkRequest

OUTBOX_FIELDS = (
    "claimed_at",
    "attempts",
    "next_attempt_at",
    "pushed_at",
    "failed_at",
    "last_error",
    "last_error_at",
)


# Read-only: a work request, a note or an account changes through the pages and their services
# (R3: an approved artisan; R9: a note through the dossier's event log), then reaches Redmine.
@admin.register(WorkRequest)
class WorkRequestAdmin(ReadOnlyAdmin):
    list_display = ("pk", "dossier", "artisan", "redmine_issue_id", "pushed_at", "failed_at")
    list_filter = ("priority", "urgency")
    list_select_related = ("dossier", "artisan")
    search_fields = ("dossier__reference", "artisan__name", "description", "reference")
    raw_id_fields = ("dossier", "artisan", "requested_by")
    readonly_fields = (
        "reference",
        "redmine_issue_id",
        "redmine_url",
        "redmine_status",
        "redmine_updated_at",
        "synced_at",
        "done_at",
        "last_note",
        *OUTBOX_FIELDS,
    )


@admin.register(IssueNote)
class IssueNoteAdmin(ReadOnlyAdmin):
    list_display = ("pk", "work_request", "author", "created_at", "pushed_at", "failed_at")
    list_select_related = ("work_request", "work_request__dossier", "author")
    raw_id_fields = ("work_request", "author")
    readonly_fields = ("marker", *OUTBOX_FIELDS)


@admin.register(ArtisanAccount)
class ArtisanAccountAdmin(ReadOnlyAdmin):
    list_display = ("intervenant", "redmine_login", "redmine_user_id", "pushed_at", "failed_at")
    list_select_related = ("intervenant",)
    raw_id_fields = ("intervenant",)
    readonly_fields = ("redmine_user_id", "redmine_login", "redmine_membership_id", *OUTBOX_FIELDS)


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ("name", "updated_since", "last_run_at", "last_error")
