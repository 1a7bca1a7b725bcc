from django.contrib import admin

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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
