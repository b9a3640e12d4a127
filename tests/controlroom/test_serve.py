"""Several web processes behind one address (``python -m controlroom.serve --processes N``).

Two real server processes share one port; consoles spread over them, and the channel layer
(Redis) feeds every process: each console receives every event, once and in order.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection, transaction

from controlroom import journal
from tests import event_types  # noqa: F401 - declares the test.* event types
from tests.controlroom.live_clients import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@pytest.fixture
def two_processes(needs_redis, needs_postgres):
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    test_database = urllib.parse.urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}"))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "controlroom.serve", "--port", str(port), "--processes", "2"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": test_database},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server group ended"
            assert time.monotonic() < deadline, "the server group did not start"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    pass
                if len(children(server.pid)) == 2:
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


def record(n: int) -> list[int]:
    seqs = []
    for i in range(n):
        with transaction.atomic():
            seqs.append(journal.record(type="test.happened", actor="system:test",
                                       payload={"i": i}).seq)
    return seqs


async def listen(port: int, cookie: str, ready: asyncio.Event, count: int, expected: list):
    """One console: the seqs of the events it received, once the last expected one came."""
    seqs = []
    headers = {"Cookie": cookie, "Origin": "http://localhost"}
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live/", additional_headers=headers,
                                  open_timeout=30) as ws:
        async for frame in ws:
            message = json.loads(frame)
            for item in message["messages"] if message["kind"] == "batch" else [message]:
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
