from django.db import models
from django.utils.translation import gettext_lazy as _


class RolePermission(models.Model):
    """Anchor for the permissions that belong to a role rather than to one table.

    No table: the model only gives these permissions a content type, so that they are ordinary
    Django permissions (`user.has_perm("accounts.approve_artisan")`) granted through groups.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            # R3: only the direction approves an artisan.
            ("approve_artisan", _("Can approve or refuse an artisan")),
            # R10: only the legal service receives a bailiff's act.
            ("register_bailiff_act", _("Can register the delivery of a bailiff's act")),
        ]

    def __str__(self) -> str:
        return self._meta.verbose_name
