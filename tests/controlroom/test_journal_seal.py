"""The journal's chain resists someone who can write to the database but lacks the key and the
anchor kept outside it: a rewritten and re-hashed tail, a cut tail with the head moved back, and
TRUNCATE are all caught or refused."""

import hashlib
import hmac
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from controlroom import journal, journal_seal
from controlroom.models import Event

pytestmark = pytest.mark.django_db


def record_some(count):
    return [journal.record(type="test.happened", actor="system:test", payload={"n": i})
            for i in range(count)]


def _sql(sql, params=()):
    """What someone with direct database access can do, bypassing the application's guards."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE controlroom_event DISABLE TRIGGER controlroom_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE controlroom_event ENABLE TRIGGER controlroom_event_append_only")


def rewrite_from(seq, payload, digest):
    """Change event ``seq``'s payload and hash it and every later event again with ``digest``."""
    _sql("UPDATE controlroom_event SET payload = %s WHERE seq = %s", [json.dumps(payload), seq])
    prev = Event.objects.get(seq=seq - 1).hash if seq > 1 else journal.GENESIS_HASH
    for event in Event.objects.filter(seq__gte=seq).order_by("seq"):
        new = digest(prev, journal.canonical_text(journal.event_fields(event)))
        _sql("UPDATE controlroom_event SET prev_hash = %s, hash = %s WHERE seq = %s",
             [prev, new, event.seq])
        prev = new
    _sql("UPDATE controlroom_journalhead SET hash = %s WHERE id = 1", [prev])


def test_the_chain_is_keyed():
    first = record_some(1)[0]
    canonical = journal.canonical_text(journal.event_fields(first))
    assert first.hash != journal_seal.legacy_hash(journal.GENESIS_HASH, canonical)
    assert first.hash == hmac.new(journal_seal.key(), (journal.GENESIS_HASH + canonical).encode(),
                                  hashlib.sha256).hexdigest()


def test_a_rewritten_event_rehashed_without_the_key_is_caught():
    record_some(5)
    rewrite_from(3, {"n": 99}, journal_seal.legacy_hash)
    checked, problem = journal.verify_chain()
    assert (checked, problem.seq) == (2, 3) and "altered" in problem.reason


def test_a_rewritten_event_rehashed_with_another_key_is_caught():
    record_some(5)

    def other_key(prev, canonical):
        return hmac.new(b"a guess" * 8, (prev + canonical).encode(), hashlib.sha256).hexdigest()

    rewrite_from(4, {"n": 99}, other_key)
    assert journal.verify_chain()[1].seq == 4
    with pytest.raises(CommandError, match="event #4"):
        call_command("verify_journal")


def test_a_cut_tail_with_the_head_moved_back_is_caught_by_the_anchor():
    events = record_some(5)
    call_command("verify_journal")  # checkpoints the head (#5) outside the database
    assert journal_seal.anchor_read() == journal_seal.Anchor(seq=5, hash=events[-1].hash)
    _sql("DELETE FROM controlroom_event WHERE seq > 3")
    _sql("UPDATE controlroom_journalhead SET seq = 3, hash = %s WHERE id = 1", [events[2].hash])
    checked, problem = journal.verify_chain()
    assert (checked, problem.seq) == (3, 4) and "anchor" in problem.reason
    with pytest.raises(CommandError, match="event #4"):
        call_command("verify_journal")


def test_a_forged_anchor_is_refused(settings):
    record_some(2)
    journal.anchor_head()
    anchor = json.loads(settings.JOURNAL_ANCHOR_FILE.read_text())
    settings.JOURNAL_ANCHOR_FILE.write_text(json.dumps({**anchor, "seq": 1}))
    assert "signature" in journal.verify_chain()[1].reason


def test_the_anchor_never_moves_back_and_later_events_still_verify():
    record_some(3)
    journal.anchor_head()
    journal_seal.anchor_write(seq=1, head_hash="0" * 64)
    assert journal_seal.anchor_read().seq == 3
    record_some(2)
    assert journal.verify_chain() == (5, None)


def test_the_periodic_task_anchors_the_head():
    from controlroom.tasks import anchor_journal

    events = record_some(2)
    anchor_journal()
    assert journal_seal.anchor_read() == journal_seal.Anchor(seq=2, hash=events[-1].hash)


def test_a_journal_begun_unkeyed_verifies_up_to_the_declared_event(settings):
    events = record_some(4)
    rewrite_from(1, {"n": 0}, journal_seal.legacy_hash)
    assert journal.verify_chain()[1].seq == 1
    settings.JOURNAL_UNKEYED_THROUGH = 4
    assert journal.verify_chain() == (4, None)
    settings.JOURNAL_UNKEYED_THROUGH = 2
    assert journal.verify_chain()[1].seq == 3
    assert events


def test_postgresql_refuses_truncating_the_journal(needs_postgres):
    record_some(2)
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL controlroom.allow_journal_truncate = 'off'")
            cursor.execute("TRUNCATE controlroom_event CASCADE")
    assert Event.objects.count() == 2
