"""Grant permissions to the role groups from data migrations.

Every app's data migration calls `grant` with the permissions of its own models, so that a role's
rights are defined next to what they protect and stay under migration control.
"""

from django.contrib.auth.management import create_permissions


def grant(apps, grants: dict[str, list[str]], *, app_label: str) -> None:
    """Give each group in `grants` the permissions `app_label.<codename>` listed for it.

    Permissions are normally created after all migrations (post_migrate); create them now for
    `app_label` so that a fresh database can be migrated in one run.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    app_config = apps.get_app_config(app_label)
    if not getattr(app_config, "models_module", None):
        # A migration state stub: create_permissions skips an app without models_module.
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    for group_name, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise LookupError(f"Unknown permissions for {app_label}: {sorted(missing)}")
        group.permissions.add(*permissions)
