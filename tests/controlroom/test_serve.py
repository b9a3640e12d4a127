"""The web server as it runs (``python -m controlroom.serve``), on PostgreSQL and Redis.

Two real server processes share one port; consoles spread over them, and the channel layer
(Redis) feeds every process: each console receives every event, once and in order. A console
that stops reading is told to resynchronise once it falls too far behind, and catches up.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection, transaction

from controlroom import journal
from tests import event_types  # noqa: F401 - declares the test.* event types
from tests.controlroom.live_clients import messages_of, session_cookie
from tests.devices.workers import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def socket_count(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


@contextmanager
def serving(processes: int, **env):
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    test_database = urllib.parse.urlunsplit(
        url._replace(path=f"/{connection.settings_dict['NAME']}"))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "controlroom.serve", "--port", str(port),
         "--processes", str(processes)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": test_database,
                       # This test run's channel layer, so that its pushes reach the servers.
                       "CHANNELS_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
                       **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server ended"
            assert time.monotonic() < deadline, "the server did not start"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    pass
                if processes == 1 or len(children(server.pid)) == processes:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)


@pytest.fixture
def two_processes(needs_redis, needs_postgres):
    with serving(2) as running:
        yield running


def record(n: int, padding: int = 0) -> list[int]:
    seqs = []
    for i in range(n):
        with transaction.atomic():
            seqs.append(journal.record(type="test.happened", actor="system:test",
                                       payload={"i": i, "pad": "x" * padding}).seq)
    return seqs


async def listen(port: int, cookie: str, ready: asyncio.Event, count: int, expected: list):
    """One console: the seqs of the events it received, once the last expected one came."""
    seqs = []
    headers = {"Cookie": cookie, "Origin": "http://localhost"}
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live/", additional_headers=headers,
                                  open_timeout=30, max_size=None) as ws:
        async for frame in ws:
            for item in messages_of(frame):
                if item["kind"] == "ready":
                    count.append(1)
                    ready.set()
                elif item["kind"] == "event":
                    seqs.append(item["seq"])
            if expected and seqs and seqs[-1] >= expected[-1]:
                return seqs
    return seqs


def test_two_processes_share_the_port_and_every_console_gets_every_event_once(
    two_processes, people
):
    port, server = two_processes
    pids = children(server.pid)
    idle = {pid: socket_count(pid) for pid in pids}
    cookie = asyncio.run(session_cookie(people["operator"])).decode()

    async def scenario():
        ready, count, expected = asyncio.Event(), [], []
        consoles = [asyncio.create_task(listen(port, cookie, ready, count, expected))
                    for _ in range(24)]
        async with asyncio.timeout(60):
            while len(count) < len(consoles):
                await asyncio.sleep(0.05)
        spread = {pid: socket_count(pid) - idle[pid] for pid in pids}
        expected.extend(await asyncio.to_thread(record, 5))
        async with asyncio.timeout(60):
            received = await asyncio.gather(*consoles)
        return spread, expected, received

    spread, expected, received = asyncio.run(scenario())
    # The kernel spread the consoles over both processes.
    assert all(extra >= 3 for extra in spread.values()), spread
    # Each process was fed through Redis: every console has every event, once, in order.
    assert all(seqs == expected for seqs in received), (expected, received)
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("RedisPubSubChannelLayer")


def test_a_console_that_stops_reading_is_resynchronised_and_ends_with_every_event_once(
    needs_redis, needs_postgres, people
):
    cookie = asyncio.run(session_cookie(people["operator"])).decode()
    headers = {"Cookie": cookie, "Origin": "http://localhost"}

    async def scenario(port):
        url = f"ws://127.0.0.1:{port}/ws/live/"
        ready, count, expected = asyncio.Event(), [], []
        reader = asyncio.create_task(listen(port, cookie, ready, count, expected))
        # A console whose link stalls: it reads nothing (a small receive buffer, and the client
        # library stops reading the TCP stream once its one-message queue is full), so the
        # server's flow control holds its sends.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        stalled = await websockets.connect(url, sock=sock, additional_headers=headers,
                                           max_queue=1, open_timeout=30, max_size=None,
                                           compression=None)
        first = json.loads(await stalled.recv())
        assert first["kind"] == "ready"
        async with asyncio.timeout(60):
            while not count:
                await asyncio.sleep(0.05)
        # 12 MB of events: more than the socket buffers and the console's outbox hold.
        expected.extend(await asyncio.to_thread(record, 600, 20000))

        # When it reads again: the events it had been sent, then "resync", then the close.
        seen, resynced = [], False
        try:
            async with asyncio.timeout(60):
                async for frame in stalled:
                    for item in messages_of(frame):
                        if item["kind"] == "event":
                            seen.append(item["seq"])
                        resynced |= item["kind"] == "resync"
        except websockets.ConnectionClosed:
            pass
        except TimeoutError:
            pass  # never told to resynchronise: the assertions below say so
        code = stalled.close_code
        # It comes back after its last event and catches up from the journal.
        after = seen[-1] if seen else first["seq"]
        async with websockets.connect(f"{url}?after={after}", additional_headers=headers,
                                      open_timeout=30, max_size=None) as again:
            async with asyncio.timeout(60):
                async for frame in again:
                    for item in messages_of(frame):
                        if item["kind"] == "event":
                            seen.append(item["seq"])
                    if seen and seen[-1] >= expected[-1]:
                        break
        async with asyncio.timeout(60):
            kept_up = await reader
        return resynced, code, seen, kept_up, expected

    with serving(1, LIVE_OUTBOX_LIMIT="50") as (port, _server):
        resynced, code, seen, kept_up, expected = asyncio.run(scenario(port))
    assert resynced and code == 4408
    assert seen == expected  # every event once, in order, after catching up
    assert kept_up == expected  # the console that kept reading never noticed
