from django.db import migrations

from accounts.permissions import grant

STAFF = [
    "add_incomingitem", "change_incomingitem", "view_incomingitem",
    "add_reply", "view_reply", "add_event", "view_event", "view_activity",
]


def grant_permissions(apps, schema_editor):
    grant(
        apps,
        {
            "Gestionnaire": STAFF,
            "Direction": STAFF,
            # The legal service registers bailiff's acts (its own permission) and follows them.
            "Service juridique": STAFF,
        },
        app_label="correspondence",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("correspondence", "0002_event_append_only"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
