from django.contrib import admin

from email_channel.models import InboundMessage, Mailbox, RefusedAttachment


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "folder", "archive_folder", "last_success_at", "last_error")
    readonly_fields = [f.name for f in Mailbox._meta.fields]

    def has_add_permission(self, request):
        return False  # mailboxes come from MAILBOX_URLS


class RefusedAttachmentInline(admin.TabularInline):
    model = RefusedAttachment
    extra = 0
    can_delete = False
    readonly_fields = ("position", "filename", "content_type", "size", "reason")


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Read-only: what the mailbox delivered is a record; people act on the application's pages."""

    list_display = ("received_at", "state", "from_address", "subject", "mailbox", "archived_at")
    list_filter = ("state", "automatic_kind", "mailbox")
    search_fields = ("subject", "from_address", "message_id")
    exclude = ("raw",)
    inlines = [RefusedAttachmentInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in InboundMessage._meta.fields if f.name != "raw"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
