from django.db import migrations

from accounts.permissions import grant

# The group names are data (see accounts/migrations/0002_role_groups.py).
GESTIONNAIRE, DIRECTION = "Gestionnaire", "Direction"
EVERYDAY = [
    "view_workrequest",
    "add_workrequest",
    "change_workrequest",  # retry a push refused by Redmine
    "view_issuenote",
    "add_issuenote",
    "view_artisanaccount",
]


def grant_permissions(apps, schema_editor):
    grant(
        apps,
        {
            GESTIONNAIRE: EVERYDAY,
            # The direction approves artisans: it also retries their Redmine accounts.
            DIRECTION: [*EVERYDAY, "change_artisanaccount"],
        },
        app_label="redmine_bridge",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("redmine_bridge", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
