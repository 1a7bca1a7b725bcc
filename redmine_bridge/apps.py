from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RedmineBridgeConfig(AppConfig):
    name = "redmine_bridge"
    verbose_name = _("Redmine")

    def ready(self):
        # R3: the client base tells, after commit, that the direction approved an artisan; the
        # bridge then asks for his Redmine account. contacts never imports the bridge.
        # Refused or revoked, he loses his Redmine access: the bridge locks the account.
        from contacts.signals import artisan_approved, artisan_withdrawn
        from redmine_bridge import receivers

        artisan_approved.connect(
            receivers.on_artisan_approved, dispatch_uid="redmine_bridge.artisan_approved"
        )
        artisan_withdrawn.connect(
            receivers.on_artisan_withdrawn, dispatch_uid="redmine_bridge.artisan_withdrawn"
        )
        # His work requests not yet in Redmine are refused at once, to be given to another
        # artisan. A receiver of its own: the account's failure must not stop it, nor it that.
        artisan_withdrawn.connect(
            receivers.on_artisan_withdrawn_work_requests,
            dispatch_uid="redmine_bridge.artisan_withdrawn_work_requests",
        )
