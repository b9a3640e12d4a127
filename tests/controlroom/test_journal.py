import threading

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from controlroom import journal
from controlroom.models import Event, JournalHead


def record_some(count, **extra):
    return [
        journal.record(type="test.happened", actor="system:test", payload={"n": i, **extra})
        for i in range(count)
    ]


@pytest.mark.django_db
def test_it_chains_events_in_sequence():
    first, second, third = record_some(3)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == journal.GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert JournalHead.objects.get(pk=1).seq == 3
    assert journal.verify_chain() == (3, None)


@pytest.mark.django_db
def test_it_records_subject_actor_and_agencies(people, agencies):
    user = people["operator"]
    event = journal.record(
        type="test.happened",
        subject=user,
        actor=user,
        agencies=[agencies["pn"], agencies["sdis"].pk],
        payload={"priority": 2, "ratio": 1.0, "big": 1e20, "small": 1e-7, "text": "Rixe – quai"},
    )
    stored = Event.objects.get(seq=event.seq)
    assert (stored.subject_app, stored.subject_model, stored.subject_id) == (
        "controlroom", "user", str(user.pk))
    assert stored.actor_id == user.pk and stored.actor_label == "op"
    assert stored.agencies == sorted([agencies["pn"].pk, agencies["sdis"].pk])
    # The hash survives the database's own JSON normalisation (jsonb rewrites numbers).
    assert journal.compute_hash(stored.prev_hash, stored) == stored.hash


@pytest.mark.django_db
@pytest.mark.parametrize("bad_type", ["", "Incident.Created", "incident", "incident created", "a..b"])
def test_it_refuses_malformed_event_types(bad_type):
    with pytest.raises(journal.JournalError):
        journal.record(type=bad_type)
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_non_finite_numbers():
    with pytest.raises(journal.JournalError):
        journal.record(type="test.happened", payload={"value": float("nan")})
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_event_and_no_gap():
    record_some(1)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            journal.record(type="test.happened")
            raise RuntimeError("the caller's change failed")
    after = journal.record(type="test.happened")
    assert after.seq == 2
    assert journal.verify_chain() == (2, None)


@pytest.mark.django_db
def test_the_application_cannot_update_or_delete_events():
    event = record_some(1)[0]
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        Event.objects.filter(seq=event.seq).update(type="test.rewritten")
    with pytest.raises(PermissionError):
        Event.objects.all().delete()


@pytest.mark.django_db
def test_postgresql_refuses_rewriting_the_journal(needs_postgres):
    record_some(1)
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE controlroom_event SET type = 'x.y' WHERE seq = 1")
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM controlroom_event WHERE seq = 1")


def _tamper(sql, params):
    """What someone with direct database access could do, bypassing the application's guards."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE controlroom_event DISABLE TRIGGER controlroom_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE controlroom_event ENABLE TRIGGER controlroom_event_append_only")


@pytest.mark.django_db
def test_verify_journal_reports_an_altered_payload():
    record_some(5)
    _tamper("UPDATE controlroom_event SET payload = %s WHERE seq = 3", ['{"n": 99}'])
    checked, problem = journal.verify_chain()
    assert (checked, problem.seq) == (2, 3)
    assert "altered" in problem.reason
    with pytest.raises(CommandError, match="event #3"):
        call_command("verify_journal")


@pytest.mark.django_db
def test_verify_journal_reports_a_missing_event():
    record_some(5)
    _tamper("DELETE FROM controlroom_event WHERE seq = 4", [])
    checked, problem = journal.verify_chain()
    assert problem.seq == 4 and "missing" in problem.reason


@pytest.mark.django_db
def test_verify_journal_reports_a_truncated_tail():
    record_some(5)
    _tamper("DELETE FROM controlroom_event WHERE seq = 5", [])
    checked, problem = journal.verify_chain()
    assert (checked, problem.seq) == (4, 5)


@pytest.mark.django_db
def test_verify_journal_reports_a_rewritten_link():
    record_some(4)
    _tamper("UPDATE controlroom_event SET prev_hash = %s WHERE seq = 2", ["f" * 64])
    assert journal.verify_chain()[1].seq == 2


@pytest.mark.django_db
def test_verify_journal_command_succeeds_on_an_intact_journal(capsys):
    record_some(3)
    call_command("verify_journal")
    assert "3 events verified" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_produce_a_gap_free_chain(needs_postgres):
    """Eight threads, each with its own database connection, append at the same time."""
    writers, per_writer = 8, 40
    start = threading.Barrier(writers)
    errors = []

    def write(worker):
        try:
            start.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    journal.record(type="test.concurrent", payload={"worker": worker, "i": i})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    assert journal.verify_chain() == (writers * per_writer, None)
    # Each writer's own events kept their order.
    for worker in range(writers):
        mine = [e.payload["i"] for e in Event.objects.filter(type="test.concurrent").order_by("seq")
                if e.payload["worker"] == worker]
        assert mine == list(range(per_writer))


WRITER_SCRIPT = """
import django, sys
django.setup()
from django.db import transaction
from controlroom import journal
from tests import event_types
for i in range(int(sys.argv[2])):
    with transaction.atomic():
        journal.record(type="test.concurrent", actor="system:" + sys.argv[1], payload={"i": i})
"""


@pytest.mark.django_db(transaction=True)
def test_concurrent_writer_processes_produce_a_gap_free_chain(needs_postgres, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    db = connection.settings_dict
    url = f"postgres://{db['USER'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "controlroom.settings",
           "CONTROLROOM_VAR_DIR": str(tmp_path),
           # The writers key the chain with the same secret as this process.
           "JOURNAL_KEY_FILE": str(django_settings.JOURNAL_KEY_FILE)}
    env.pop("REDIS_URL", None)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, f"p{n}", "60"], cwd=ROOT, env=env)
        for n in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert list(Event.objects.values_list("seq", flat=True)) == list(range(1, 181))
    assert journal.verify_chain() == (180, None)
