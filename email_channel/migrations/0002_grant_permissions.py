from django.db import migrations

from accounts.permissions import grant

READ = ["view_inboundmessage", "view_refusedattachment", "view_mailbox"]
SORT = [*READ, "change_inboundmessage"]


def grant_permissions(apps, schema_editor):
    grant(
        apps,
        {
            # Whoever is free sorts the emails; the legal service follows them.
            "Gestionnaire": SORT,
            # Quarantined emails were not checked: only the direction opens them.
            "Direction": [*SORT, "view_quarantine"],
            "Service juridique": READ,
        },
        app_label="mailbox",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("mailbox", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
