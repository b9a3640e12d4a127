"""PostgreSQL refuses TRUNCATE of the journal too, as it refuses UPDATE and DELETE of its rows.

A TRUNCATE fires no row trigger, so it needs a statement trigger of its own. Only a session that
says so (``SET controlroom.allow_journal_truncate = 'on'``, as the test suite does to empty its
database between tests) may truncate; a mistaken ``flush`` on a real database is refused.
"""

from django.db import migrations

GUARD_SQL = """
CREATE OR REPLACE FUNCTION controlroom_journal_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('controlroom.allow_journal_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the journal is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER controlroom_event_no_truncate
    BEFORE TRUNCATE ON controlroom_event
    FOR EACH STATEMENT EXECUTE FUNCTION controlroom_journal_no_truncate();
"""

UNGUARD_SQL = """
DROP TRIGGER IF EXISTS controlroom_event_no_truncate ON controlroom_event;
DROP FUNCTION IF EXISTS controlroom_journal_no_truncate();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("controlroom", "0002_journal_head_and_guard")]

    operations = [migrations.RunPython(guard, unguard)]
