from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ged.models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Read-only: documents are added through `document_store` and never changed nor deleted."""

    list_display = ["original_filename", "content_type", "size", "owner_type", "owner_id"]
    list_display += ["added_by", "added_at"]
    list_filter = ["content_type", "owner_type"]
    search_fields = ["original_filename", "sha256"]
    list_select_related = ["owner_type", "added_by"]
    date_hierarchy = "added_at"
    # Not `file`: the admin would show the storage's URL (a presigned bucket URL on S3, a media
    # URL that nothing serves locally), which skips `ged.access.can_view` and the original name.
    # The links below go through the GED's own views, which check the access and stream.
    fields = [
        "original_filename",
        "content_type",
        "size",
        "sha256",
        "owner_type",
        "owner_id",
        "added_by",
        "added_at",
        "previous",
        "download_link",
        "preview_link",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Download"))
    def download_link(self, document):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("ged:download", args=[document.pk]),
            document.original_filename,
        )

    @admin.display(description=_("Preview"))
    def preview_link(self, document):
        if not document.is_previewable:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("ged:preview", args=[document.pk]),
            _("Preview"),
        )
