#!/usr/bin/env python
"""Live push benchmark: N WebSocket consoles, events appended to the journal at a given rate.

Starts Daphne on the configured database and channel layer (set DATABASE_URL and REDIS_URL for
the real thing), connects N authenticated consoles to /ws/live/, appends events from this process
as a worker would, and prints delivery latency percentiles (append → received by a console),
the delivery throughput, the server's memory, and how many events a console never received.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/controlroom REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/live_push.py --clients 200 --events 600 --rate 20
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

from support import ROOT, daphne, percentile  # noqa: E402 - bench/ is on the path

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlroom.settings")

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from controlroom import events, journal, services  # noqa: E402
from controlroom.models import Agency  # noqa: E402

# The benchmark's own event type: the journal records only declared types.
events.register("bench.tick", app="bench", label="bench.tick", replay=events.NOT_REPLAYED)


def bench_cookie() -> str:
    agency = services.agency_ensure(
        code="bench", name="Bench agency", kind=Agency.Kind.MUNICIPAL_POLICE,
        operates_control_room=True, by="system:bench",
    )
    user = services.user_ensure(
        username="bench-console", password=os.urandom(16).hex(), role="operator", agency=agency,
        by="system:bench",
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Client:
    def __init__(self):
        self.latencies: list[float] = []
        self.seqs: list[int] = []


async def run_client(url, cookie, client, first_seq, last_holder, done: asyncio.Event, ready):
    headers = {"Cookie": cookie, "Origin": "http://127.0.0.1"}
    async with websockets.connect(url, additional_headers=headers, max_queue=None,
                                  open_timeout=60) as ws:
        while True:
            message = json.loads(await ws.recv())
            if message["kind"] == "ready":
                ready()
                continue
            if message["kind"] == "event" and message["type"] == "bench.tick":
                client.latencies.append(time.time() - message["payload"]["t"])
                client.seqs.append(message["seq"])
            seq = (message.get("seq", 0) if message["kind"] == "event"
                   else message.get("delivered", 0))
            if done.is_set() and last_holder[0] is not None and seq >= last_holder[0]:
                return


def append_events(count: int, rate: float, out: list):
    interval = 1.0 / rate
    start = time.perf_counter()
    for i in range(count):
        target = start + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with transaction.atomic():
            event = journal.record(type="bench.tick", actor="system:bench",
                                   payload={"i": i, "t": time.time()})
        out.append(event.seq)


async def main(args, cookie):
    with daphne(args.server_log, {"LIVE_HEARTBEAT_SECONDS": "2"}) as (host, server):
        url = f"ws://{host}/ws/live/"
        clients = [Client() for _ in range(args.clients)]
        done, last = asyncio.Event(), [None]
        connected = 0
        all_ready = asyncio.Event()

        def ready():
            nonlocal connected
            connected += 1
            if connected == args.clients:
                all_ready.set()

        tasks = []
        for client in clients:
            tasks.append(asyncio.create_task(run_client(url, cookie, client, 0, last, done, ready)))
            await asyncio.sleep(0.005)
        await asyncio.wait_for(all_ready.wait(), 120)
        rss_before = rss_mib(server.pid)
        print(f"{args.clients} consoles connected; appending {args.events} events at "
              f"{args.rate}/s on {settings.CHANNEL_LAYERS['default']['BACKEND'].split('.')[-1]} "
              f"and {settings.DATABASES['default']['ENGINE'].split('.')[-1]}")

        seqs: list[int] = []
        started = time.perf_counter()
        await asyncio.to_thread(append_events, args.events, args.rate, seqs)
        last[0] = seqs[-1]
        done.set()
        finished, pending = await asyncio.wait(tasks, timeout=args.drain)
        elapsed = time.perf_counter() - started
        for task in pending:
            task.cancel()
        rss_after = rss_mib(server.pid)

        expected = set(seqs)
        latencies = [lat for client in clients for lat in client.latencies]
        lost = sum(len(expected - set(client.seqs)) for client in clients)
        dupes = sum(len(client.seqs) - len(set(client.seqs)) for client in clients)
        disordered = sum(client.seqs != sorted(client.seqs) for client in clients)
        ms = [lat * 1000 for lat in latencies]
        print(f"delivered: {len(latencies)} of {len(expected) * args.clients} "
              f"({len(latencies) / elapsed:.0f} messages/s over {elapsed:.1f} s)")
        print(f"latency ms: p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
              f"p99 {percentile(ms, 99):.1f}  max {max(ms) if ms else float('nan'):.1f}  "
              f"mean {statistics.fmean(ms) if ms else float('nan'):.1f}")
        print(f"lost: {lost}  duplicates: {dupes}  consoles out of order: {disordered}  "
              f"consoles still waiting: {len(pending)}")
        print(f"server memory (RSS): {rss_before:.0f} MiB connected, {rss_after:.0f} MiB after")
        return 0 if lost == 0 and dupes == 0 and not disordered else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--rate", type=float, default=20.0, help="events appended per second")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument("--server-log", default=os.devnull, help="file for the server's output")
    arguments = parser.parse_args()
    call_command("migrate", verbosity=0, interactive=False)
    sys.exit(asyncio.run(main(arguments, bench_cookie())))
