"""Writes of the observatory: facts fed from the other apps and from a synthetic history, the
forecast and its evaluation, and the hourly "normal or abnormal" check that alerts supervisors. Imported data sources
(their mapping, uploads and the import runs) are in ``observatory.services.imports``.

Exercise rows never become facts. Facts hold no personal data: time, H3 cell, sector,
category, source, weight.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlroom import geo, journal
from controlroom.models import Sector
from observatory import forecast as fc
from observatory import synthetic
from observatory.models import Fact, ForecastCell, ForecastRun, PublicEvent, WeatherHour

ACTOR = "system:observatory"
BATCH = 5000
# The sources the forecast learns from (citizen reports and alerts describe the same events
# as the incidents they lead to only in part; the alerts are the broadest signal).
FORECAST_SOURCES = ("alert", "synthetic", "import")


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class _Sectors:
    """The sector of each H3 cell (by its centre), computed once per cell."""

    def __init__(self):
        self.areas = [(pk, geo.PreparedArea(g)) for pk, g in
                      Sector.objects.order_by("pk").values_list("pk", "geometry")]
        self.known: dict[str, int | None] = {}

    def __call__(self, cell: str) -> int | None:
        if cell not in self.known:
            lat, lon = h3.cell_to_latlng(cell)
            self.known[cell] = next((pk for pk, area in self.areas if area.contains(lat, lon)),
                                    None)
        return self.known[cell]


def _insert(facts: list[Fact]) -> int:
    """Insert the facts whose origin is new, then recount the days they fall on; how many."""
    added = 0
    days = set()
    for start in range(0, len(facts), BATCH):
        batch = {fact.origin: fact for fact in facts[start:start + BATCH]}
        known = set(Fact.objects.filter(origin__in=list(batch)).values_list("origin", flat=True))
        new = [fact for origin, fact in batch.items() if origin not in known]
        Fact.objects.bulk_create(new, ignore_conflicts=True)  # a concurrent feeder: no error
        days.update(fact.local_day for fact in new)
        added += len(new)
    rollup_days(days)
    return added


def rollup_days(days) -> None:
    """Rebuild the daily counts of these local days from the facts (exact, idempotent)."""
    from django.db.models import Count, Sum

    from observatory.models import DailyCount

    days = sorted(days)
    for start in range(0, len(days), 200):
        chunk = days[start:start + 200]
        rows = (Fact.objects.filter(local_day__in=chunk).order_by()
                .values("local_day", "sector_id", "category", "source")
                .annotate(n=Count("id"), w=Sum("weight")))
        with transaction.atomic():
            DailyCount.objects.filter(day__in=chunk).delete()
            DailyCount.objects.bulk_create([
                DailyCount(day=r["local_day"], sector_id=r["sector_id"], category=r["category"],
                           source=r["source"], count=r["n"], weight=r["w"] or 0.0)
                for r in rows], batch_size=BATCH)


# --- feeding from the other apps --------------------------------------------------------------
def facts_refresh(*, since: datetime | None = None) -> dict:
    """Facts for the alerts, incidents and citizen reports (not those of exercises) since
    ``since`` (default: all). Idempotent: each source row gives one fact, once."""
    from citizens.models import Report
    from incidents.models import Alert, Incident

    sectors = _Sectors()
    facts = []
    alerts = Alert.objects.filter(exercise=None).values_list(
        "pk", "received_at", "h3", "sector_id", "category__code", "repeat_count")
    incidents = Incident.objects.filter(exercise=None).values_list(
        "pk", "created_at", "h3", "sector_id", "category__code")
    # A citizen's report counts under its service's incident category: the same problem is
    # one category whoever reported it.
    reports = Report.objects.values_list("pk", "requested_at", "h3", "service__category__code")
    if since is not None:
        alerts = alerts.filter(received_at__gte=since)
        incidents = incidents.filter(created_at__gte=since)
        reports = reports.filter(requested_at__gte=since)
    for pk, at, cell, sector, category, repeats in alerts.iterator():
        facts.append(Fact.of(time=at, h3=cell, sector_id=sector,
                          category=category, source=Fact.Source.ALERT,
                          weight=float(max(1, repeats)), origin=f"alert:{pk}"))
    for pk, at, cell, sector, category in incidents.iterator():
        facts.append(Fact.of(time=at, h3=cell, sector_id=sector,
                          category=category, source=Fact.Source.INCIDENT,
                          origin=f"incident:{pk}"))
    for pk, at, cell, category in reports.iterator():
        facts.append(Fact.of(time=at, h3=cell, sector_id=sectors(cell),
                          category=category or "autre", source=Fact.Source.CITIZEN_REPORT,
                          origin=f"citizen_report:{pk}"))
    facts += _sensor_and_video_facts(since, sectors)
    return {"read": len(facts), "added": _insert(facts)}


# Noise levels at or above this (LAeq over a bucket) count as an exceedance.
NOISE_LEVEL_DB = 70.0


def _sensor_and_video_facts(since: datetime | None, sectors) -> list[Fact]:
    """Aggregates only: noise buckets over the threshold (weight: hours), and each completed
    hour of people counted in a camera zone (weight: the most people seen at once)."""
    from devices.models import TelemetryBucket
    from video.models import ZoneStatistic

    complete = _hour(timezone.now())
    facts = []
    buckets = TelemetryBucket.objects.filter(metric="laeq_db", leq__gte=NOISE_LEVEL_DB,
                                             start__lt=complete).values_list(
        "pk", "start", "seconds", "device__h3")
    counts = ZoneStatistic.objects.filter(period_start__lt=complete - timedelta(hours=1),
                                          people_max__gt=0).values_list(
        "pk", "period_start", "people_max", "camera__h3")
    if since is not None:
        buckets = buckets.filter(start__gte=since)
        counts = counts.filter(period_start__gte=since)
    for pk, at, seconds, cell in buckets.iterator():
        if cell:
            facts.append(Fact.of(time=at, h3=cell, sector_id=sectors(cell),
                              category="depassement_sonore", source=Fact.Source.SENSOR,
                              weight=seconds / 3600, origin=f"sensor:{pk}"))
    for pk, at, people, cell in counts.iterator():
        if cell:
            facts.append(Fact.of(time=at, h3=cell, sector_id=sectors(cell),
                              category="affluence", source=Fact.Source.VIDEO,
                              weight=float(people), origin=f"video:{pk}"))
    return facts


# --- the synthetic history --------------------------------------------------------------------
def synthetic_history_load(*, outline, seed: int = 2026, days: int = 730,
                           end: datetime | None = None,
                           settings_: synthetic.Settings | None = None) -> dict:
    """Generate a city history ending at ``end`` (default now) and load it as facts, with its
    weather and public events. Loading the same seed twice adds nothing."""
    end = _hour(end or timezone.now())
    start = end - timedelta(days=days)
    params = settings_ or synthetic.Settings()
    params.days = days
    history = synthetic.generate(outline, seed=seed, start=start.timestamp(), settings=params)
    sectors = _Sectors()
    facts = []
    categories = history.categories
    for i, (t, c, k) in enumerate(zip(history.times, history.cell_index,
                                      history.category_index)):
        at = datetime.fromtimestamp(float(t), tz=UTC)
        cell = history.cells[c]
        facts.append(Fact.of(time=at, h3=cell, sector_id=sectors(cell),
                          category=categories[k], source=Fact.Source.SYNTHETIC,
                          origin=f"synthetic:{seed}:{start:%Y%m%d}:{i}"))
    added = _insert(facts)
    weather = [WeatherHour(hour=start + timedelta(hours=h), rain_mm=1.5 if wet else 0.0)
               for h, wet in enumerate(history.rain)]
    WeatherHour.objects.bulk_create(weather, ignore_conflicts=True, batch_size=BATCH)
    PublicEvent.objects.bulk_create([
        PublicEvent(name=f"Événement public n°{n}",
                    starts_at=datetime.fromtimestamp(e["start"], tz=UTC),
                    ends_at=datetime.fromtimestamp(e["end"], tz=UTC), lat=e["lat"],
                    lon=e["lon"], h3=e["cell"], attendance=e["attendance"],
                    origin=f"synthetic:{seed}:{start:%Y%m%d}:event:{n}")
        for n, e in enumerate(history.public_events, 1)], ignore_conflicts=True)
    return {"facts": added, "generated": len(history), "cells": len(history.cells),
            "from": start, "to": end}


# --- forecasting ------------------------------------------------------------------------------
def _events(*, until: datetime, sources=FORECAST_SOURCES) -> tuple[fc.Events, dict, np.ndarray,
                                                                    datetime | None]:
    rows = (Fact.objects.filter(source__in=sources, time__lt=until).order_by("time")
            .values_list("time", "h3"))
    times, cells = [], []
    for at, cell in rows.iterator(chunk_size=20000):
        times.append(at.timestamp())
        cells.append(cell)
    names = sorted(set(cells))
    index = {cell: i for i, cell in enumerate(names)}
    spans: dict[int, list] = {}
    for event in PublicEvent.objects.filter(h3__in=names):
        spans.setdefault(index[event.h3], []).append((event.starts_at.timestamp(),
                                                      event.ends_at.timestamp()))
    first = datetime.fromtimestamp(times[0], tz=UTC) if times else None
    rain = np.zeros(0, dtype=np.int8)
    if first is not None:
        hours = WeatherHour.objects.filter(hour__gte=_hour(first), hour__lt=until).order_by(
            "hour").values_list("hour", "rain_mm")
        series = {h: mm for h, mm in hours}
        n = int((until - _hour(first)).total_seconds() // 3600)
        rain = np.array([1 if series.get(_hour(first) + timedelta(hours=h), 0) > 0 else 0
                         for h in range(n)], dtype=np.int8)
    events = fc.Events(cells=names, times=np.asarray(times),
                       cell_index=np.asarray([index[c] for c in cells], dtype=np.int64),
                       event_cells=spans)
    return events, index, rain, first


def forecast_refresh(*, now: datetime | None = None, test_weeks: int = 4,
                     share: float = 0.05) -> ForecastRun | None:
    """Fit the model on the history, evaluate it on the last ``test_weeks`` weeks held out,
    and forecast the next 7 days per cell and hour. None while there is too little history
    (twelve weeks at least)."""
    now = _hour(now or timezone.now())
    events, index, rain, first = _events(until=now)
    if first is None or (now - first) < timedelta(weeks=12) or len(events.cells) < 20:
        return None
    origin = now.timestamp()
    test = [origin - fc.WEEK * k for k in range(test_weeks, 0, -1)]
    first_origin = first.timestamp() + 4 * fc.WEEK
    model, evaluation = fc.evaluate(events, first_origin=first_origin, test_origins=test,
                                    share=share, rain=rain, rain_start=_hour(first).timestamp())
    # The model to forecast with: fitted on every full week up to now.
    neighbours = fc.neighbour_matrix(events.cells)
    origins = list(np.arange(first_origin, origin - fc.WEEK + 1, fc.WEEK))
    model = fc.fit(events, neighbours, origins, rain=rain, rain_start=_hour(first).timestamp())
    hourly = model.hourly(events, neighbours, origin)
    with transaction.atomic():
        run = ForecastRun.objects.create(
            created_at=timezone.now(), origin=now,
            model="Régression de Poisson (taux de long terme, voisinage récent, événements)",
            coefficients={"intercept": float(model.regressor.intercept_),
                          **{n: float(c) for n, c in zip(fc.FEATURES, model.regressor.coef_)},
                          "rain_factor": model.rain_factor},
            evaluation={**evaluation.as_dict(), "from": first.isoformat(),
                        "to": now.isoformat(), "facts": int(len(events.times)),
                        "cells": len(events.cells), "sources": list(FORECAST_SOURCES)})
        ForecastCell.objects.bulk_create([
            ForecastCell(run=run, h3=cell, expected_week=float(hourly[i].sum()),
                         expected_hours=[round(float(v), 5) for v in hourly[i]])
            for i, cell in enumerate(events.cells)], batch_size=2000)
        journal.record(type="observatory.forecast_computed", subject=run, actor=ACTOR,
                       payload={"run": run.pk, "origin": now.isoformat(),
                                "model_pai": evaluation.model_pai,
                                "baseline_pai": evaluation.baseline_pai,
                                "model_hit": evaluation.model_hit,
                                "baseline_hit": evaluation.baseline_hit,
                                "weeks": evaluation.weeks, "share": share})
    return run


# --- normal or abnormal -------------------------------------------------------------------------
def expected_by_sector(run: ForecastRun, hour: datetime) -> dict[int | None, float]:
    """Expected facts in ``hour`` per sector, from a forecast run (0 outside its week)."""
    index = int((hour - run.origin).total_seconds() // 3600)
    if not 0 <= index < 168:
        return {}
    sectors = _Sectors()
    expected: dict[int | None, float] = {}
    for cell, hours in run.cells.values_list("h3", "expected_hours"):
        sector = sectors(cell)
        expected[sector] = expected.get(sector, 0.0) + hours[index]
    return expected


def category_shares(*, sector: int | None, hour: datetime, weeks: int = 8) -> dict[str, float]:
    """Each category's share of the facts at this local hour of the day (±1 h) over the last
    ``weeks`` weeks in the sector."""
    from django.db.models import Count

    from observatory.models import PARIS

    local = hour.astimezone(PARIS).hour
    rows = (Fact.objects.filter(source__in=FORECAST_SOURCES, sector_id=sector,
                                time__gte=hour - timedelta(weeks=weeks), time__lt=hour,
                                local_hour__in=[(local - 1) % 24, local, (local + 1) % 24])
            .order_by().values_list("category").annotate(n=Count("id")))
    counts = dict(rows)
    total = sum(counts.values())
    return {category: n / total for category, n in counts.items()} if total else {}


def anomalies_check(*, now: datetime | None = None, level: float | None = None) -> list:
    """Compare the hour just ended with what the latest forecast expected, per sector and
    category; a significant excess (Poisson tail probability under ``level``) becomes an
    alert for the supervisors, with the expected and observed counts as evidence."""
    from incidents import selectors as incident_selectors
    from incidents.services import alerts as alert_services
    from incidents.services.incidents import category_for

    level = level if level is not None else settings.OBSERVATORY_ANOMALY_LEVEL
    hour = _hour(now or timezone.now()) - timedelta(hours=1)
    run = ForecastRun.objects.filter(origin__lte=hour).order_by("-origin").first()
    if run is None:
        return []
    expected = expected_by_sector(run, hour)
    if not expected:
        return []
    observed: dict[tuple, int] = {}
    for sector, category in Fact.objects.filter(
            source__in=FORECAST_SOURCES, hour=hour).values_list("sector_id", "category"):
        observed[(sector, category)] = observed.get((sector, category), 0) + 1
    raised = []
    names = dict(Sector.objects.values_list("pk", "name"))
    shares_of: dict = {}
    for (sector, category), count in sorted(observed.items(), key=lambda kv: -kv[1]):
        if count < 3:
            continue
        if sector not in shares_of:
            shares_of[sector] = category_shares(sector=sector, hour=hour)
        shares = shares_of[sector]
        mean = expected.get(sector, 0.0) * shares.get(category, 0.0)
        p = fc.poisson_tail(count, mean)
        if p >= level:
            continue
        cat = incident_selectors.category_find(code=category) or category_for("autre")
        place = Sector.objects.filter(pk=sector).first()
        lat, lon = (_centre(place) if place else geo_centre())
        received = alert_services.alert_receive(
            by=ACTOR, source=incident_selectors.AlertSource.OBSERVATORY, category=cat,
            title=(f"Hausse anormale : {count} « {cat.label} » en une heure"
                   f"{' — ' + names[sector] if sector in names else ''}")[:200],
            lat=lat, lon=lon, severity=3,
            evidence={"observed": count, "expected": round(mean, 3), "p_value": p,
                      "level": level, "hour": hour.isoformat(), "sector": names.get(sector),
                      "category": category, "forecast": run.pk},
            dedup_key=f"anomaly:{sector}:{category}:{hour:%Y%m%d%H}")
        raised.append(received.alert)
    return raised


def _centre(sector: Sector) -> tuple[float, float]:
    point = geo.polygon_from_geojson(sector.geometry).representative_point()
    return point.y, point.x


def geo_centre() -> tuple[float, float]:
    from controlroom.selectors import city_centre

    return city_centre() or tuple(settings.LEAFLET_CONFIG["DEFAULT_CENTER"])
