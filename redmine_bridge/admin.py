from django.contrib import admin

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


@admin.register(WorkRequest)
class WorkRequestAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False  # through the page, whose service checks R3 and enqueues the push

    def has_delete_permission(self, request, obj=None):
        return False  # R4: a work request registered in Redmine is history


@admin.register(IssueNote)
class IssueNoteAdmin(admin.ModelAdmin):
    list_display = ("pk", "work_request", "author", "created_at", "pushed_at", "failed_at")
    list_select_related = ("work_request", "work_request__dossier", "author")
    raw_id_fields = ("work_request", "author")
    readonly_fields = ("marker", *OUTBOX_FIELDS)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArtisanAccount)
class ArtisanAccountAdmin(admin.ModelAdmin):
    list_display = ("intervenant", "redmine_login", "redmine_user_id", "pushed_at", "failed_at")
    list_select_related = ("intervenant",)
    raw_id_fields = ("intervenant",)
    readonly_fields = ("redmine_user_id", "redmine_login", "redmine_membership_id", *OUTBOX_FIELDS)


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ("name", "updated_since", "last_run_at", "last_error")
