#!/usr/bin/env python
"""Live push benchmark: logged-in WebSocket consoles, journal events appended at a steady rate.

Starts the project's web server (``controlroom.serve``: uvicorn or Daphne, one or several
processes on one port) on the configured database and channel layer, connects N consoles to
``/ws/live/`` from separate client processes that behave like ``static/controlroom/js/live.js``
(resume with ``?after=``, drop copies, come back after a "resync"), appends ``bench.tick`` events
through ``journal.record`` as a worker would, and prints commit-to-console latency percentiles,
lost events, copies dropped, consoles out of order, delivered messages per second, server CPU per
delivered message and server memory.

``--anchor`` runs the same clients, in the same run, against a minimal Channels app on
channels_redis' pub/sub layer (``bench/live_anchor.py``) fed by a writer that publishes straight
to its group, and prints the project/anchor ratio. ``--grid`` runs 200 and 1,000 consoles at 5, 10
and 20 events/s. ``--reconnect`` restarts the server under connected consoles and times how long
they all take to be back. Needs PostgreSQL and Redis for figures that count:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/controlroom REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/live_push.py --clients 200 --rate 10 --seconds 20 --anchor
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from support import ROOT, free_port, percentile  # noqa: E402 - bench/ is on the path

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlroom.settings")

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402

from controlroom import events, journal, services  # noqa: E402
from controlroom.models import Agency  # noqa: E402

# The benchmark's own event type: the journal records only declared types.
events.register("bench.tick", app="bench", label="bench.tick", replay=events.NOT_REPLAYED)

BENCH = Path(__file__).resolve().parent
CLOSE_UNAUTHORISED = 4401


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


# --- the server ------------------------------------------------------------------------------
def process_tree(pid: int) -> list[int]:
    """A process and its descendants still alive."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid] + [p for child in children for p in process_tree(int(child))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its descendants still alive."""
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mib(pid: int) -> float:
    total = 0.0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


class Server:
    """``controlroom.serve`` on a port, which can be stopped and started again."""

    def __init__(self, args, *, anchor: bool, port: int):
        self.args, self.anchor, self.port = args, anchor, port
        self.process: subprocess.Popen | None = None

    def start(self):
        command = [sys.executable, "-m", "controlroom.serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--processes", str(self.args.processes),
                   "--server", self.args.server]
        env = {**os.environ, "LIVE_HEARTBEAT_SECONDS": "2"}
        if self.anchor:
            command += ["--application", "live_anchor:application"]
            env["PYTHONPATH"] = os.pathsep.join([str(BENCH), str(ROOT)])
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=open(self.args.server_log, "a"))
        for _ in range(600):
            if self.process.poll() is not None:
                raise SystemExit(f"The server did not start (see {self.args.server_log}).")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"The server did not start in time (see {self.args.server_log}).")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serving(args, *, anchor: bool):
    server = Server(args, anchor=anchor, port=free_port())
    server.start()
    try:
        time.sleep(1.0)  # every process up and listening
        yield server
    finally:
        server.stop()


# --- the consoles (client processes) ---------------------------------------------------------
def retry_delay(failures: int) -> float:
    """live.js's ``retryDelay``, in seconds."""
    if failures == 0:
        return random.uniform(0.5, 2.5)
    if failures <= 10:
        return random.uniform(1.0, 2.0)
    return min(2.0 * 2 ** (failures - 10), 15.0) * random.uniform(0.75, 1.25)


class Console:
    """One socket, with live.js's rules: resume after the last seq, drop copies, retry."""

    def __init__(self):
        self.last: int | None = None
        self.shown: list[int] = []
        self.latencies: list[float] = []
        self.copies = 0
        self.readies = 0
        self.resyncs = 0
        self.failed = 0
        self.refused = 0
        self.failures_in_a_row = 0

    def take(self, message: dict):
        kind = message.get("kind")
        if kind == "batch":
            for item in message["messages"]:
                self.take(item)
        elif kind == "event":
            seq = message["seq"]
            if self.last is not None and seq <= self.last:
                self.copies += 1
                return
            self.last = seq
            if message.get("type") == "bench.tick":
                self.shown.append(seq)
                self.latencies.append(time.time() - message["payload"]["t"])
        elif kind == "ready":
            self.readies += 1
            self.failures_in_a_row = 0
            if isinstance(message.get("seq"), int) and (self.last is None
                                                          or message["seq"] > self.last):
                self.last = message["seq"]
        elif kind == "heartbeat":
            if self.last is None or message["delivered"] > self.last:
                self.last = message["delivered"]
        elif kind == "resync":
            self.resyncs += 1

    async def run(self, url: str, cookie: str, stop: asyncio.Event):
        headers = {"Cookie": cookie, "Origin": "http://127.0.0.1"}
        while not stop.is_set():
            target = url if self.last is None else f"{url}?after={self.last}"
            try:
                async with websockets.connect(target, additional_headers=headers,
                                              max_queue=None, open_timeout=30,
                                              ping_interval=None) as ws:
                    async for frame in ws:
                        self.take(json.loads(frame))
            except websockets.ConnectionClosed as closed:
                if closed.rcvd and closed.rcvd.code == CLOSE_UNAUTHORISED:
                    return
            except ConnectionRefusedError:
                self.refused += 1  # the server is down: not a failed handshake
            except (TimeoutError, OSError, websockets.InvalidHandshake):
                self.failed += 1
            if stop.is_set():
                return
            await asyncio.sleep(retry_delay(self.failures_in_a_row))
            self.failures_in_a_row += 1


def client_process(url: str, cookie: str, count: int, pipe):
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_client_main(url, cookie, count, pipe))


async def _client_main(url, cookie, count, pipe):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    consoles = [Console() for _ in range(count)]
    tasks = []
    for console in consoles:
        tasks.append(asyncio.create_task(console.run(url, cookie, stop)))
        await asyncio.sleep(0.002)

    async def command():
        return await loop.run_in_executor(None, pipe.recv)

    async def until(predicate, deadline):
        while not predicate() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return predicate()

    await until(lambda: all(c.readies for c in consoles), time.monotonic() + 180)
    pipe.send(("ready", sum(bool(c.readies) for c in consoles)))
    while True:
        order, value = await command()
        if order == "mark":
            # Reconnect scenario: report when every console has had a new "ready".
            before = [c.readies for c in consoles]
            failed_before = sum(c.failed for c in consoles)
            pipe.send(("marked", None))
            done = await until(lambda before=before: all(c.readies > b for c, b in zip(consoles, before)),
                               time.monotonic() + value)
            back = sum(c.readies > b for c, b in zip(consoles, before))
            pipe.send(("back", {"time": time.time(), "complete": done, "back": back,
                                "failed": sum(c.failed for c in consoles) - failed_before}))
        elif order == "end":
            last, drain = value
            await until(lambda last=last: all(c.last is not None and c.last >= last for c in consoles),
                        time.monotonic() + drain)
            stop.set()
            for task in tasks:
                task.cancel()
            waiting = sum(not (c.last is not None and c.last >= last) for c in consoles)
            pipe.send(("result", {
                "latencies": [lat for c in consoles for lat in c.latencies],
                "shown": [c.shown for c in consoles],
                "copies": sum(c.copies for c in consoles),
                "resyncs": sum(c.resyncs for c in consoles),
                "failed": sum(c.failed for c in consoles),
                "waiting": waiting,
            }))
            return


class Clients:
    """The consoles, spread over a few client processes."""

    def __init__(self, url, cookie, count, processes):
        context = multiprocessing.get_context("fork")
        connections.close_all()  # the children never touch the database
        self.pipes, self.processes = [], []
        sizes = [count // processes + (i < count % processes) for i in range(processes)]
        for size in sizes:
            here, there = context.Pipe()
            process = context.Process(target=client_process, args=(url, cookie, size, there),
                                      daemon=True)
            process.start()
            self.pipes.append(here)
            self.processes.append(process)

    def gather(self, expect: str):
        answers = []
        for pipe in self.pipes:
            kind, value = pipe.recv()
            assert kind == expect, (kind, expect)
            answers.append(value)
        return answers

    def send(self, order, value=None):
        for pipe in self.pipes:
            pipe.send((order, value))

    def close(self):
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


# --- writers ---------------------------------------------------------------------------------
def write_journal(count: int, rate: float) -> list[int]:
    """Through the project's write path, one committed transaction per event."""
    seqs = []
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with transaction.atomic():
            event = journal.record(type="bench.tick", actor="system:bench",
                                   payload={"i": i, "t": time.time()})
        seqs.append(event.seq)
    return seqs


def write_anchor(count: int, rate: float) -> list[int]:
    """Straight to the anchor's group, from one event loop (one Redis connection)."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(
        hosts=[{"address": os.environ["REDIS_URL"]}],
        prefix=os.environ.get("CHANNELS_PREFIX", "bench-anchor"))

    async def write():
        start = time.perf_counter()
        for i in range(1, count + 1):
            delay = start + (i - 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            text = json.dumps({"kind": "event", "seq": i, "type": "bench.tick",
                               "payload": {"i": i, "t": time.time()}})
            await layer.group_send("anchor", {"type": "bench.event", "text": text})
        await layer.flush()
        return list(range(1, count + 1))

    return asyncio.run(write())


# --- one run ---------------------------------------------------------------------------------
def one_run(args, cookie: str, clients: int, rate: float, *, anchor: bool) -> dict:
    count = max(1, round(rate * args.seconds))
    with serving(args, anchor=anchor) as server:
        url = f"ws://127.0.0.1:{server.port}/ws/live/"
        cpu_idle = cpu_seconds(server.process.pid)
        connecting = time.perf_counter()
        group = Clients(url, cookie, clients, args.client_processes)
        connected = sum(group.gather("ready"))
        connect = {"seconds": time.perf_counter() - connecting,
                   "cpu_ms": (cpu_seconds(server.process.pid) - cpu_idle) / clients * 1000}
        reconnect = None
        if args.reconnect and not anchor:
            group.send("mark", 120.0)
            group.gather("marked")
            stopping = time.time()
            server.stop()
            server.start()
            up = time.time()
            backs = group.gather("back")
            reconnect = {
                "down": up - stopping,
                "seconds": max(b["time"] for b in backs) - up,
                "back": sum(b["back"] for b in backs),
                "failed": sum(b["failed"] for b in backs),
            }
            time.sleep(1.0)
        pid = server.process.pid
        cpu_before, rss_before = cpu_seconds(pid), rss_mib(pid)
        started = time.perf_counter()
        seqs = write_anchor(count, rate) if anchor else write_journal(count, rate)
        group.send("end", (seqs[-1], args.drain))
        results = group.gather("result")
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
        rss_after = rss_mib(pid)
        group.close()

    expected = set(seqs)
    shown = [s for r in results for s in r["shown"]]
    ms = [lat * 1000 for r in results for lat in r["latencies"]]
    delivered = len(ms)
    return {
        "target": "anchor" if anchor else "project", "clients": clients, "connected": connected,
        "rate": rate, "events": count, "delivered": delivered,
        "p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms, default=float("nan")),
        "mean": statistics.fmean(ms) if ms else float("nan"),
        "lost": sum(len(expected - set(s)) for s in shown),
        "shown_twice": sum(len(s) - len(set(s)) for s in shown),
        "copies_dropped": sum(r["copies"] for r in results),
        "out_of_order": sum(s != sorted(s) for s in shown),
        "waiting": sum(r["waiting"] for r in results),
        "resyncs": sum(r["resyncs"] for r in results),
        "failed_handshakes": sum(r["failed"] for r in results),
        "messages_per_s": delivered / elapsed,
        "cpu_us_per_message": cpu / delivered * 1e6 if delivered else float("nan"),
        "rss_mib": (rss_before, rss_after),
        "reconnect": reconnect,
        "connect": connect,
    }


def report(run: dict):
    print(f"  {run['target']:7} {run['clients']:>5} × {run['rate']:>4g}/s: "
          f"p50 {run['p50']:7.1f}  p99 {run['p99']:7.1f}  max {run['max']:7.1f} ms | "
          f"lost {run['lost']}  shown twice {run['shown_twice']}  out of order "
          f"{run['out_of_order']}  copies dropped {run['copies_dropped']}  resyncs "
          f"{run['resyncs']} | {run['messages_per_s']:.0f} msg/s, "
          f"{run['cpu_us_per_message']:.0f} µs CPU/msg, RSS {run['rss_mib'][0]:.0f} → "
          f"{run['rss_mib'][1]:.0f} MiB", flush=True)
    c = run["connect"]
    print(f"          {run['connected']} consoles connected in {c['seconds']:.1f} s "
          f"(2 ms apart), {c['cpu_ms']:.1f} ms of server CPU each", flush=True)
    if run["reconnect"]:
        r = run["reconnect"]
        print(f"          restart: server down {r['down']:.1f} s, then {r['back']} of "
              f"{run['clients']} consoles back within {r['seconds']:.1f} s of it listening "
              f"again, {r['failed']} failed handshakes", flush=True)


def main(args) -> int:
    call_command("migrate", verbosity=0, interactive=False)
    cookie = bench_cookie()
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"{args.server}, {args.processes} process(es), {layer}, {database}; "
          f"{args.seconds:g} s of events per run, {os.cpu_count()} cores")
    if args.anchor and "redis" not in layer.lower():
        raise SystemExit("--anchor needs REDIS_URL (the anchor runs on the pub/sub layer)")
    grid = ([(c, r) for c in (200, 1000) for r in (5, 10, 20)] if args.grid
            else [(args.clients, args.rate)])
    failed = False
    for clients, rate in grid:
        project = one_run(args, cookie, clients, rate, anchor=False)
        report(project)
        failed |= bool(project["lost"] or project["shown_twice"] or project["out_of_order"])
        if args.anchor:
            anchor = one_run(args, cookie, clients, rate, anchor=True)
            report(anchor)
            print(f"          project/anchor p99: {project['p99'] / anchor['p99']:.2f}  "
                  f"CPU/msg: {project['cpu_us_per_message'] / anchor['cpu_us_per_message']:.2f}",
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="events appended per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of events per run")
    parser.add_argument("--processes", type=int, default=1, help="web server processes")
    parser.add_argument("--server", choices=("uvicorn", "daphne"), default="uvicorn")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--anchor", action="store_true",
                        help="also run the minimal Channels app, same clients, same run")
    parser.add_argument("--grid", action="store_true", help="200 and 1,000 × 5, 10, 20 events/s")
    parser.add_argument("--reconnect", action="store_true",
                        help="restart the server under the connected consoles first")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument("--server-log", default=os.devnull, help="file for the servers' output")
    sys.exit(main(parser.parse_args()))
