"""The agency's roles. Each role is a Django group, created by a data migration."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # The values are the group names stored in the database (shown in the admin, in French).
    GESTIONNAIRE = "Gestionnaire", _("Property manager")
    DIRECTION = "Direction", _("Management")
    LEGAL = "Service juridique", _("Legal service")


def user_roles(user) -> frozenset[Role]:
    """The roles of `user`, read once per user object (one query)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_roles_cache"):
        names = user.groups.filter(name__in=Role.values).values_list("name", flat=True)
        user._roles_cache = frozenset(Role(name) for name in names)
    return user._roles_cache


def has_role(user, role: Role) -> bool:
    return role in user_roles(user)
