"""The embedded Celery broker (kombu's filesystem transport, as configured): processes that
write and read the same queue folder at once never see a message half written, and nothing
lands in the checkout (``control/``)."""

import json
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from kombu import Connection

from controlroom import broker

TRANSPORT = getattr(django_settings, "CELERY_BROKER_TRANSPORT", "controlroom.broker:Transport")


def channel(folder: Path, transport: str = TRANSPORT):
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(exist_ok=True)
    connection = Connection("filesystem://", transport=transport, transport_options={
        "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"), "store_processed": False,
        "control_folder": str(folder / "control"), "polling_interval": 0.01})
    return connection, connection.default_channel


def test_readers_never_see_a_message_half_written(tmp_path):
    """Writers put large messages while readers take them as fast as they can: with kombu's own
    writes, a reader soon takes a file still empty and fails on its JSON."""
    body = "x" * 1_000_000
    writers, per_writer = 4, 60
    received, errors = [], []
    done_writing = threading.Event()

    def write(n):
        connection, chan = channel(tmp_path)
        with connection:
            for i in range(per_writer):
                chan._put("q", {"body": body, "id": f"{n}-{i}"})

    def read():
        connection, chan = channel(tmp_path)
        with connection:
            while len(received) < writers * per_writer:
                try:
                    received.append(chan._get("q")["id"])
                except broker.filesystem.Empty:
                    if done_writing.is_set() and not any(
                            (tmp_path / "queue").glob("*.msg")):
                        return
                except Exception as exc:  # what a worker would die of
                    errors.append(exc)
                    return

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    writing = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in writing:
        thread.start()
    for thread in writing:
        thread.join()
    done_writing.set()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(received) == sorted(f"{n}-{i}" for n in range(writers)
                                      for i in range(per_writer))


def test_an_unreadable_message_is_set_aside_and_the_next_one_read(tmp_path):
    connection, chan = channel(tmp_path)
    with connection:
        # Messages are taken in name order and named after the monotonic clock in ms: "0_"
        # sorts before any of them, whatever the machine's uptime.
        (tmp_path / "queue" / "0_broken.q.msg").write_text('{"half": ')
        chan._put("q", {"id": "next"})

        assert chan._get("q") == {"id": "next"}
    assert [p.name for p in (tmp_path / "processed").iterdir()] == ["0_broken.q.msg.unreadable"]
    assert list((tmp_path / "queue").iterdir()) == []


def test_exchange_tables_are_kept_whole_by_concurrent_bindings(tmp_path):
    errors = []

    def bind(n):
        connection, chan = channel(tmp_path)
        with connection:
            for i in range(40):
                try:
                    chan._queue_bind("celery", f"key-{n}-{i}", "", f"queue-{n}-{i}")
                    chan.get_table("celery")
                except Exception as exc:
                    errors.append(exc)
                    return

    threads = [threading.Thread(target=bind, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    table = json.loads((tmp_path / "control" / "celery.exchange").read_text())
    assert len(table) == 4 * 40


def test_the_broker_writes_under_the_var_dir_not_in_the_checkout():
    options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if django_settings.REDIS_URL:
        pytest.skip("the filesystem broker is the embedded default, without REDIS_URL")
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert Path(options[key]).parent == Path(django_settings.CELERY_DIR)


def test_the_test_run_has_a_broker_of_its_own():
    from controlroom import pytest_plugin
    from controlroom.celery import app

    assert Path(django_settings.CELERY_DIR) == Path(pytest_plugin.FOLDER)
    assert Path(django_settings.VAR_DIR) / "celery" != Path(django_settings.CELERY_DIR)
    options = app.conf.broker_transport_options
    if django_settings.REDIS_URL:
        assert options["global_keyprefix"].startswith("test-")
    else:
        assert Path(options["data_folder_in"]).parent == Path(pytest_plugin.FOLDER)
