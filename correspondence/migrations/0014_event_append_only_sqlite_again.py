"""R9 on SQLite: the event log's triggers again, lost when 0006 and 0007 rebuilt the table.

SQLite alters a table by building a new one and renaming it, which drops its triggers (0002).
PostgreSQL alters in place and keeps them. Any later migration that rebuilds
correspondence_event on SQLite must create them again, as this one does.
"""

from django.db import migrations

SQLITE_UP = [
    "DROP TRIGGER IF EXISTS correspondence_event_no_update;",
    "DROP TRIGGER IF EXISTS correspondence_event_no_delete;",
    """CREATE TRIGGER correspondence_event_no_update BEFORE UPDATE ON correspondence_event
       BEGIN SELECT RAISE(ABORT, 'correspondence_event is append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER correspondence_event_no_delete BEFORE DELETE ON correspondence_event
       BEGIN SELECT RAISE(ABORT, 'correspondence_event is append-only (DELETE refused)'); END;""",
]


def _sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("correspondence", "0013_activity_not_bailiff_act")]

    operations = [migrations.RunPython(_sqlite, migrations.RunPython.noop)]
