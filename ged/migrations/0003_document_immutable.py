"""Issue 4: a document is immutable and never deleted. The database refuses, whatever the code.

An UPDATE that changes any column of the row (its content, its owner, its version link, its id),
and any DELETE, are refused by triggers, as the event log's are (correspondence 0002). An UPDATE
that changes nothing passes: only a change is refused, so that a column added later for what may
legitimately change (a title, say) can be updated without touching these triggers; such a column
must simply stay out of the lists below.

TRUNCATE fires no row trigger on PostgreSQL: the tests' flush between transactional tests still
empties the table. On SQLite (`make run`), `manage.py flush` deletes row by row and is refused
once documents exist, as it is for the event log. A later migration that makes SQLite rebuild
the table (most column changes) drops its triggers with the old table: it must create them again.
"""

from django.db import migrations

COLUMNS = (
    "id",
    "file",
    "sha256",
    "size",
    "content_type",
    "original_filename",
    "added_by_id",
    "added_at",
    "owner_type_id",
    "owner_id",
    "previous_id",
)

POSTGRESQL_UP = f"""
CREATE FUNCTION ged_document_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ged_document is immutable (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ged_document_no_update
    BEFORE UPDATE ON ged_document
    FOR EACH ROW
    WHEN (({", ".join(f"OLD.{c}" for c in COLUMNS)})
          IS DISTINCT FROM ({", ".join(f"NEW.{c}" for c in COLUMNS)}))
    EXECUTE FUNCTION ged_document_immutable();
CREATE TRIGGER ged_document_no_delete
    BEFORE DELETE ON ged_document
    FOR EACH ROW EXECUTE FUNCTION ged_document_immutable();
"""
POSTGRESQL_DOWN = """
DROP TRIGGER IF EXISTS ged_document_no_update ON ged_document;
DROP TRIGGER IF EXISTS ged_document_no_delete ON ged_document;
DROP FUNCTION IF EXISTS ged_document_immutable();
"""
SQLITE_UP = [
    # `IS NOT` is SQLite's null-safe comparison (`previous_id` may be NULL).
    f"""CREATE TRIGGER ged_document_no_update BEFORE UPDATE ON ged_document
        FOR EACH ROW WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS)}
        BEGIN SELECT RAISE(ABORT, 'ged_document is immutable (UPDATE refused)'); END;""",
    """CREATE TRIGGER ged_document_no_delete BEFORE DELETE ON ged_document
       BEGIN SELECT RAISE(ABORT, 'ged_document is immutable (DELETE refused)'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS ged_document_no_update;",
    "DROP TRIGGER IF EXISTS ged_document_no_delete;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)  # the SQL holds a literal %

    return run


class Migration(migrations.Migration):
    dependencies = [("ged", "0002_role_permissions")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": [POSTGRESQL_UP], "sqlite": SQLITE_UP}),
            _run({"postgresql": [POSTGRESQL_DOWN], "sqlite": SQLITE_DOWN}),
        ),
    ]
