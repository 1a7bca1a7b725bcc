from django.db import migrations

from accounts.permissions import grant

# The group names are data: they must not change with the translation of the role labels.
GESTIONNAIRE, DIRECTION, LEGAL = "Gestionnaire", "Direction", "Service juridique"


def create_role_groups(apps, schema_editor):
    grant(
        apps,
        {
            GESTIONNAIRE: [],
            DIRECTION: ["approve_artisan"],
            LEGAL: ["register_bailiff_act"],
        },
        app_label="accounts",
    )


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[GESTIONNAIRE, DIRECTION, LEGAL]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
