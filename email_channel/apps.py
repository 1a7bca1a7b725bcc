from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmailChannelConfig(AppConfig):
    # The package is not called `mailbox`, which would hide the standard library's module; the
    # label keeps the short name for tables, permissions ("mailbox.change_inboundmessage"), URLs.
    name = "email_channel"
    label = "mailbox"
    verbose_name = _("Email channel")

    def ready(self) -> None:
        from correspondence.alerts import digest_source_register
        from email_channel.digest import overdue_triage_section

        # R8: the emails waiting in triage are in the direction's digest (see email_channel.digest).
        digest_source_register(overdue_triage_section)
