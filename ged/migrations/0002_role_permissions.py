from django.db import migrations

from accounts.permissions import grant

# The default access rule of the GED (ged/access.py): every role may see and attach documents.
# Group names are data, as in accounts.0002_role_groups.
ROLE_GROUPS = ("Gestionnaire", "Direction", "Service juridique")


def grant_document_permissions(apps, schema_editor):
    grant(
        apps,
        {group: ["view_document", "add_document"] for group in ROLE_GROUPS},
        app_label="ged",
    )


def revoke_document_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="ged", codename__in=["view_document", "add_document"]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ged", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant_document_permissions, revoke_document_permissions)]
