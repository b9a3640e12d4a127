"""The journal's head row, and a database-level guard against editing the journal.

On PostgreSQL a trigger refuses any UPDATE or DELETE of journal rows, so even a mistaken query
from the application cannot rewrite history; tampering then takes deliberate action by the
database owner, and ``verify_journal`` detects it.
"""

from django.db import migrations

GENESIS_HASH = "0" * 64

GUARD_SQL = """
CREATE OR REPLACE FUNCTION controlroom_journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER controlroom_event_append_only
    BEFORE UPDATE OR DELETE ON controlroom_event
    FOR EACH ROW EXECUTE FUNCTION controlroom_journal_append_only();
"""

UNGUARD_SQL = """
DROP TRIGGER IF EXISTS controlroom_event_append_only ON controlroom_event;
DROP FUNCTION IF EXISTS controlroom_journal_append_only();
"""


def create_head(apps, schema_editor):
    JournalHead = apps.get_model("controlroom", "JournalHead")
    JournalHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("controlroom", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(guard, unguard),
    ]
