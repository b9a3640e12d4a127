#!/usr/bin/env python
"""Replay benchmark: the console's state at any instant of a journal of 1,000,000 events.

Works on a database of its own next to the configured one (``<name>_replay_bench`` on the
PostgreSQL server of DATABASE_URL; a file under var/ without it): dropped, created, migrated,
then filled with a generated journal (``--events``, default 1,000,000) of a city over 30 days:
300 units reporting their positions, 2,000 devices and 150 cameras changing state, alerts
received, acknowledged, dismissed or attached, incidents opened with a procedure, units sent,
steps done, incidents resolved and closed, wall screens routed, citizen reports. Every event is
hash-chained as ``journal.record`` would chain it; rows are written with COPY.

The method (``incidents.replay``): the derived state is saved as a checkpoint every
``--every`` events (5,000 by default); the state at an instant T is the last checkpoint before
T plus the events between it and T, applied forward. Printed:

1. building the journal (events per second) and the checkpoints (events reduced per second,
   how many, their size);
2. the state at ``--samples`` random instants: latency p50 / p95 / p99 / max, for the state
   alone and with the map layers and incident details the replay page receives (the target:
   under 500 ms);
3. the same instant from the journal's start without checkpoints, once, for comparison;
4. the largest state's size and the process's peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/controlroom .venv/bin/python bench/replay.py
"""

import argparse
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from support import ROOT, django_on_bench_database, percentile

sys.path.insert(0, str(ROOT))

UNITS, DEVICES, CAMERAS, SCREENS = 300, 2000, 150, 6
OPEN_ALERTS, OPEN_INCIDENTS = 250, 120
CENTRE = (47.322, 5.041)
DAYS = 30


def point(rng: random.Random) -> tuple[float, float]:
    return (round(CENTRE[0] + rng.uniform(-0.03, 0.03), 6),
            round(CENTRE[1] + rng.uniform(-0.045, 0.045), 6))


class City:
    """Generates the journal's events, keeping what is open bounded like a real city."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.alerts: list[int] = []
        self.incidents: dict[int, dict] = {}
        self.reports: list[int] = []
        self.next = {"alert": 1, "incident": 1, "run": 1, "report": 1}
        self.units = {n: {"status": "available", "lat": point(self.rng)[0],
                          "lon": point(self.rng)[1]} for n in range(1, UNITS + 1)}

    def inventory(self):
        rng = self.rng
        for n in range(1, UNITS + 1):
            u = self.units[n]
            yield ("unit.created", ("incidents", "unit", n), [1 + n % 3], {
                "unit": n, "call_sign": f"U{n:03d}", "kind": "patrol_car",
                "status": "available", "lat": u["lat"], "lon": u["lon"]})
        for n in range(1, DEVICES + 1):
            lat, lon = point(rng)
            yield ("device.created", ("devices", "device", n), [], {
                "name": f"Équipement {n}", "data": {
                    "code": f"dev-{n}", "name": f"Équipement {n}", "kind": "street_light",
                    "state": {}, "online": True, "lat": lat, "lon": lon, "active": True}})
        for n in range(1, CAMERAS + 1):
            lat, lon = point(rng)
            yield ("camera.created", ("video", "camera", n), [], {
                "name": f"Caméra {n}", "data": {
                    "code": f"cam-{n}", "name": f"Caméra {n}", "online": False,
                    "sensitive": n % 10 == 0, "lat": lat, "lon": lon, "analytics": ["intrusion"],
                    "enabled": True}})

    def event(self, at: datetime):
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            n = rng.randint(1, UNITS)
            u = self.units[n]
            u["lat"] = round(u["lat"] + rng.uniform(-0.0005, 0.0005), 6)
            u["lon"] = round(u["lon"] + rng.uniform(-0.0007, 0.0007), 6)
            return ("unit.position", ("incidents", "unit", n), [1 + n % 3], {
                "unit": n, "call_sign": f"U{n:03d}", "kind": "patrol_car",
                "status": u["status"], "lat": u["lat"], "lon": u["lon"],
                "at": at.isoformat()})
        if roll < 0.65:
            n = rng.randint(1, DEVICES)
            lat, lon = point(random.Random(n))
            return ("device.state", ("devices", "device", n), [], {
                "device": n, "code": f"dev-{n}", "name": f"Équipement {n}",
                "kind": "street_light", "state": {"on": rng.random() < 0.5,
                                                  "level": rng.randint(0, 100)},
                "online": rng.random() > 0.02, "lat": lat, "lon": lon})
        if roll < 0.68:
            n = rng.randint(1, CAMERAS)
            lat, lon = point(random.Random(10_000 + n))
            online = rng.random() < 0.9
            return ("camera.online" if online else "camera.offline", ("video", "camera", n), [],
                    {"camera": n, "code": f"cam-{n}", "name": f"Caméra {n}", "online": online,
                     "sensitive": n % 10 == 0, "lat": lat, "lon": lon,
                     "analytics": ["intrusion"]})
        if roll < 0.69:
            camera = rng.choice([None, *range(1, CAMERAS + 1)])
            screen = rng.randint(1, SCREENS)
            return ("screen.routed", ("video", "screen", screen), [], {
                "screen": f"mur-{screen}", "name": f"Mur {screen}",
                "camera": f"cam-{camera}" if camera else None})
        if roll < 0.72:
            return self.report()
        if roll < 0.85:
            return self.alert()
        return self.incident(at)

    def alert(self):
        rng = self.rng
        if self.alerts and (len(self.alerts) >= OPEN_ALERTS or rng.random() < 0.5):
            n = self.alerts.pop(rng.randrange(len(self.alerts)))
            status = rng.choice(["acknowledged", "dismissed", "attached"])
            if status == "acknowledged":
                self.alerts.append(n)
            return self._alert(n, status)
        n = self.next["alert"]
        self.next["alert"] += 1
        self.alerts.append(n)
        return self._alert(n, "new", evidence={"device": f"dev-{n % DEVICES}"})

    def _alert(self, n, status, **extra):
        lat, lon = point(random.Random(n))
        return (f"alert.{'received' if status == 'new' else status}",
                ("incidents", "alert", n), [], {
                    "alert": n, "source": "sensor", "category": "nuisance_sonore",
                    "severity": 3, "title": f"Alerte {n}", "lat": lat, "lon": lon,
                    "sector": None, "status": status, "repeat_count": 0, **extra})

    def incident(self, at: datetime):
        rng = self.rng
        if not self.incidents or (len(self.incidents) < OPEN_INCIDENTS and rng.random() < 0.12):
            n = self.next["incident"]
            self.next["incident"] += 1
            lat, lon = point(rng)
            self.incidents[n] = {"status": "new", "steps": ["s1", "s2", "s3", "s4"],
                                 "units": [], "run": None, "lat": lat, "lon": lon}
            return self._incident(n, "incident.created", {
                "title": f"Incident {n}", "category": "rixe", "priority": rng.randint(1, 4),
                "status": "new", "lat": lat, "lon": lon, "sector": None, "address": ""})
        n = rng.choice(list(self.incidents))
        item = self.incidents[n]
        if item["run"] is None:
            item["run"] = self.next["run"]
            self.next["run"] += 1
            return self._incident(n, "procedure.started", {
                "run": item["run"], "name": "Procédure rixe", "steps": [
                    {"key": key, "order": order, "mandatory": True, "status": "pending",
                     "deadline_at": (at + timedelta(minutes=5 * order)).isoformat()}
                    for order, key in enumerate(item["steps"], 1)]})
        free = [u for u, v in self.units.items() if v["status"] == "available"]
        if item["status"] in ("new", "acknowledged") and free and rng.random() < 0.6:
            unit = rng.choice(free)
            self.units[unit]["status"] = "en_route"
            item["units"].append(unit)
            item["status"] = "dispatched"
            return self._incident(n, "incident.unit_assigned", {"unit": unit,
                                                                "call_sign": f"U{unit:03d}"})
        if item["steps"] and rng.random() < 0.5:
            key = item["steps"].pop(0)
            return self._incident(n, "procedure.step_done", {
                "run": item["run"], "key": key, "status": "done"})
        following = {"new": "acknowledged", "acknowledged": "dispatched",
                     "dispatched": "on_scene", "on_scene": "resolved", "resolved": "closed"}
        to = following[item["status"]]
        if to == "closed" or to == "resolved":
            for unit in item["units"]:
                self.units[unit]["status"] = "available"
            item["units"] = []
        event = self._incident(n, "incident.status_changed", {
            "from": item["status"], "to": to, "reason": "", "automatic": False})
        item["status"] = to
        if to == "closed":
            del self.incidents[n]
        return event

    def _incident(self, n, type, payload):
        return (type, ("incidents", "incident", n), [],
                {"incident": n, "reference": f"INC-2026-{n:06d}", **payload})

    def report(self):
        rng = self.rng
        if self.reports and (len(self.reports) > 80 or rng.random() < 0.5):
            n = self.reports.pop(rng.randrange(len(self.reports)))
            status = "resolved"
        else:
            n = self.next["report"]
            self.next["report"] += 1
            self.reports.append(n)
            status = "received"
        lat, lon = point(random.Random(20_000 + n))
        return (f"citizen_report.{'received' if status == 'received' else 'status_changed'}",
                ("citizens", "report", n), [], {
                    "report": n, "service": "voirie", "service_name": "Voirie",
                    "status": status, "lat": lat, "lon": lon, "alert": None})


def build_journal(count: int, seed: int) -> tuple[datetime, datetime]:
    from django.db import connection

    from controlroom import journal
    from controlroom.models import Event, JournalHead

    city = City(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    step = timedelta(days=DAYS) / count
    prev_hash, seq = journal.GENESIS_HASH, 0
    columns = ("seq", "created_at", "type", "subject_app", "subject_model", "subject_id",
               "actor_id", "actor_label", "agencies", "payload", "prev_hash", "hash")
    started = time.perf_counter()
    inventory = city.inventory()
    with connection.cursor() as cursor, cursor.connection.cursor().copy(
            f"COPY controlroom_event ({', '.join(columns)}) FROM STDIN") as copy:
        while seq < count:
            at = start + step * seq
            generated = next(inventory, None) or city.event(at)
            type, subject, agencies, payload = generated
            seq += 1
            event = Event(seq=seq, created_at=at, type=type, subject_app=subject[0],
                          subject_model=subject[1], subject_id=str(subject[2]),
                          actor_id=None, actor_label="system:bench",
                          agencies=agencies, payload=journal.to_json_value(payload),
                          prev_hash=prev_hash)
            event.hash = journal.compute_hash(prev_hash, event)
            copy.write_row((seq, at, type, subject[0], subject[1], str(subject[2]), None,
                            "system:bench", json.dumps(agencies),
                            json.dumps(event.payload, ensure_ascii=False), prev_hash,
                            event.hash))
            prev_hash = event.hash
            if seq % 100_000 == 0:
                print(f"  {seq:,} events written ({time.perf_counter() - started:.0f} s)",
                      flush=True)
    JournalHead.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev_hash})
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE controlroom_event")
    elapsed = time.perf_counter() - started
    print(f"journal: {count:,} events in {elapsed:.0f} s ({count / elapsed:,.0f} events/s)")
    return start, start + step * count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=5000, help="events between checkpoints")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", help="name of the bench database")
    parser.add_argument("--reuse-db", action="store_true",
                        help="keep the journal and checkpoints of a previous run")
    args = parser.parse_args()

    fresh = django_on_bench_database(args.database, "replay_bench", reuse=args.reuse_db)
    from django.core.management import call_command

    from controlroom.models import Event
    from incidents import replay
    from incidents.models import ReplayCheckpoint
    from incidents.services.incidents import category_ensure_defaults

    if fresh:
        call_command("migrate", verbosity=0)
        category_ensure_defaults()
        build_journal(args.events, args.seed)
    first = Event.objects.order_by("seq").values_list("created_at", flat=True).first()
    last = Event.objects.order_by("-seq").values_list("created_at", flat=True).first()
    total = Event.objects.count()

    started = time.perf_counter()
    written = replay.checkpoints_extend(every=args.every)
    elapsed = time.perf_counter() - started
    sizes = [len(state) for state in ReplayCheckpoint.objects.filter(
        version=replay.VERSION).values_list("state", flat=True)]
    if written:
        print(f"checkpoints: {written} written every {args.every:,} events in {elapsed:.1f} s "
              f"({total / elapsed:,.0f} events reduced per second)")
    print(f"checkpoints held: {len(sizes)}, each {percentile(sizes, 50) / 1024:.0f} KiB "
          f"(median; zlib-compressed JSON), {sum(sizes) / 2**20:.0f} MiB in all")

    rng = random.Random(args.seed)
    span = (last - first).total_seconds()
    instants = [first + timedelta(seconds=rng.uniform(0, span)) for _ in range(args.samples)]
    state_ms, page_ms, applied = [], [], []
    for at in instants:
        t0 = time.perf_counter()
        state = replay.state_at(at=at)
        t1 = time.perf_counter()
        replay.present(state, at)
        t2 = time.perf_counter()
        state_ms.append((t1 - t0) * 1000)
        page_ms.append((t2 - t0) * 1000)
        applied.append(state["seq"] % args.every)
    print(f"\nstate at {args.samples} random instants of {total:,} events "
          f"({first:%Y-%m-%d} to {last:%Y-%m-%d}), from checkpoints every {args.every:,}:")
    for label, values in (("state", state_ms), ("state + page data", page_ms)):
        print(f"  {label:<18} p50 {percentile(values, 50):6.1f} ms   p95 "
              f"{percentile(values, 95):6.1f} ms   p99 {percentile(values, 99):6.1f} ms   "
              f"max {max(values):6.1f} ms   (target < 500 ms: "
              f"{'OK' if max(values) < 500 else 'ABOVE'})")
    print(f"  events applied after the checkpoint: median {percentile(applied, 50):,.0f}, "
          f"max {max(applied):,}")
    last_state = replay.state_at(at=last)
    print(f"  state at the end: {len(json.dumps(last_state)) / 1024:.0f} KiB of JSON; "
          f"{len(last_state['alerts'])} open alerts, "
          f"{len(last_state['incidents'])} incidents, {len(last_state['units'])} units, "
          f"{len(last_state['devices'])} devices, {len(last_state['cameras'])} cameras")

    t0 = time.perf_counter()
    genesis = replay.state_at(at=last, use_checkpoints=False)
    genesis_s = time.perf_counter() - t0
    same = genesis == last_state
    print(f"\nwithout checkpoints, from the first event: {genesis_s:.1f} s for the last instant "
          f"(same state as from the checkpoint: {'yes' if same else 'NO'})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MiB")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
