from django.db import migrations

from accounts.permissions import grant

# The group names are data: they must not change with the translation of the role labels.
GESTIONNAIRE, DIRECTION, LEGAL = "Gestionnaire", "Direction", "Service juridique"
MODELS = ["client", "dossier", "intervenant", "mandate"]


def grant_contacts_permissions(apps, schema_editor):
    manage = [f"{action}_{model}" for model in MODELS for action in ("add", "change", "view")]
    # Approval decisions are append-only: written by the services, only ever read.
    view = [f"view_{model}" for model in MODELS] + ["view_artisandecision"]
    grant(
        apps,
        {
            GESTIONNAIRE: manage + ["view_artisandecision"],
            DIRECTION: manage + ["view_artisandecision"],
            LEGAL: view,
        },
        app_label="contacts",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant_contacts_permissions, migrations.RunPython.noop)]
