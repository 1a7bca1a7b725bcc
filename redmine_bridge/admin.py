from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

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


# Only `updated_since` may be changed, and only moved back: to make the next pull read again the
# issues changed since a given moment (after restoring a backup, say). A cursor is made by the
# pull itself, and its claim and last run are the pull's own.
class SyncCursorForm(forms.ModelForm):
    class Meta:
        model = SyncCursor
        fields = ("updated_since",)

    def clean_updated_since(self):
        value = self.cleaned_data["updated_since"]
        current = SyncCursor.objects.get(pk=self.instance.pk).updated_since
        if current is not None and (value is None or value > current):
            # Forward, the next pulls would skip the changes in between.
            raise forms.ValidationError(
                _("The cursor can only be moved back (it is at %(current)s).")
                % {"current": date_format(timezone.localtime(current), "DATETIME_FORMAT")}
            )
        return value


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    form = SyncCursorForm
    list_display = ("name", "updated_since", "last_run_at", "last_error")
    fields = ("name", "updated_since", "claimed_at", "last_run_at", "last_error")
    readonly_fields = ("name", "claimed_at", "last_run_at", "last_error")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
