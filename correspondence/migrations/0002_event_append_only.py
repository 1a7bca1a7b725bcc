"""R9: the event log is append-only. The database refuses UPDATE and DELETE on it, whatever the code."""

from django.db import migrations

POSTGRESQL_UP = """
CREATE FUNCTION correspondence_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'correspondence_event is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER correspondence_event_append_only
    BEFORE UPDATE OR DELETE ON correspondence_event
    FOR EACH ROW EXECUTE FUNCTION correspondence_event_append_only();
"""
POSTGRESQL_DOWN = """
DROP TRIGGER IF EXISTS correspondence_event_append_only ON correspondence_event;
DROP FUNCTION IF EXISTS correspondence_event_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER correspondence_event_no_update BEFORE UPDATE ON correspondence_event
       BEGIN SELECT RAISE(ABORT, 'correspondence_event is append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER correspondence_event_no_delete BEFORE DELETE ON correspondence_event
       BEGIN SELECT RAISE(ABORT, 'correspondence_event is append-only (DELETE refused)'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS correspondence_event_no_update;",
    "DROP TRIGGER IF EXISTS correspondence_event_no_delete;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)  # the SQL holds a literal %

    return run


class Migration(migrations.Migration):
    dependencies = [("correspondence", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": [POSTGRESQL_UP], "sqlite": SQLITE_UP}),
            _run({"postgresql": [POSTGRESQL_DOWN], "sqlite": SQLITE_DOWN}),
        ),
    ]
