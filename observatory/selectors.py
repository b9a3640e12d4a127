"""The observatory's dashboards: every figure as rows (and CSV), from the fact table and, for
response times, from the incidents (exercises left out).

Counts are grouped in the database (one indexed scan of the period), times on screen are
Europe/Paris: the hour of the week is the local one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import h3
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext

from controlroom.models import Sector
from observatory.models import DailyCount, Fact, ForecastRun

PARIS = ZoneInfo("Europe/Paris")
SHIFTS = (("matin", 6, 14), ("après-midi", 14, 22), ("nuit", 22, 6))


@dataclass
class Filters:
    start: datetime
    end: datetime
    categories: list[str] = field(default_factory=list)
    sectors: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def _narrow(self, rows):
        if self.categories:
            rows = rows.filter(category__in=self.categories)
        if self.sectors:
            rows = rows.filter(sector_id__in=self.sectors)
        if self.sources:
            rows = rows.filter(source__in=self.sources)
        return rows.order_by()

    def facts(self, start: datetime | None = None, end: datetime | None = None):
        return self._narrow(Fact.objects.filter(time__gte=start or self.start,
                                                time__lt=end or self.end))

    def whole_days(self, start=None, end=None) -> tuple[date, date] | None:
        """The local days [first, last) the period covers, when it starts and ends at local
        midnight (as the dashboards' date filters do); None otherwise."""
        start, end = (start or self.start).astimezone(PARIS), (end or self.end).astimezone(PARIS)
        if start.time() != time.min or end.time() != time.min:
            return None
        return start.date(), end.date()

    def daily(self, start=None, end=None):
        """The daily counts of the period, or None when it does not fall on whole days."""
        days = self.whole_days(start, end)
        if days is None:
            return None
        return self._narrow(DailyCount.objects.filter(day__gte=days[0], day__lt=days[1]))


def _counted(f: Filters, key: str):
    """Counts per ``key`` (category or sector_id), from the daily counts when possible."""
    daily = f.daily()
    if daily is not None:
        return daily.values(key).annotate(n=Sum("count")).order_by("-n", key)
    return f.facts().values(key).annotate(n=Count("id")).order_by("-n", key)


def by_category(f: Filters) -> list[dict]:
    return [{"category": row["category"], "count": row["n"]} for row in _counted(f, "category")]


def by_category_labelled(f: Filters) -> list[dict]:
    """The counts by category, each with its label in the current language."""
    from observatory.labels import category_labels

    rows = by_category(f)
    names = category_labels([row["category"] for row in rows])
    return [{**row, "label": names[row["category"]]} for row in rows]


def by_sector(f: Filters) -> list[dict]:
    names = dict(Sector.objects.values_list("pk", "name"))
    return [{"sector": names.get(row["sector_id"]) or gettext("hors secteur"), "count": row["n"]}
            for row in _counted(f, "sector_id")]


def hour_of_week(f: Filters) -> list[list[int]]:
    """7 rows (Monday first) of 24 counts, in local time."""
    grid = [[0] * 24 for _ in range(7)]
    rows = f.facts().values("local_dow", "local_hour").annotate(n=Count("id"))
    for row in rows:
        grid[row["local_dow"] - 1][row["local_hour"]] = row["n"]
    return grid


def trend(f: Filters) -> list[dict]:
    """Counts per week, and the same weeks a year before (52 weeks: same weekdays)."""
    shift = timedelta(weeks=52)

    def weekly(start, end):
        daily = f.daily(start, end)
        if daily is None:
            rows = (f.facts(start, end).annotate(week=TruncWeek("time", tzinfo=PARIS))
                    .values("week").annotate(n=Count("id")))
            return {row["week"].date(): row["n"] for row in rows}
        weeks: dict[date, int] = {}
        for day, n in daily.values("day").annotate(n=Sum("count")).values_list("day", "n"):
            monday = day - timedelta(days=day.weekday())
            weeks[monday] = weeks.get(monday, 0) + n
        return weeks

    now, before = weekly(f.start, f.end), weekly(f.start - shift, f.end - shift)
    weeks = sorted(set(now) | {w + shift for w in before})
    # A year before the data begin there is nothing to compare with: no value (not a zero).
    first = Fact.objects.aggregate(first=Min("time"))["first"]
    first_week = None
    if first is not None:
        first_day = first.astimezone(PARIS).date()
        first_week = first_day - timedelta(days=first_day.weekday())
    return [{"week": week.isoformat(), "count": now.get(week, 0),
             "last_year": before.get(week - shift, 0)
             if first_week is not None and week - shift >= first_week else None}
            for week in weeks]


def heatmap(f: Filters) -> dict:
    """Counts per H3 cell as a GeoJSON FeatureCollection of hexagons."""
    rows = f.facts().values("h3").annotate(n=Count("id"))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": row["h3"],
         "geometry": {"type": "Polygon", "coordinates": [_ring(row["h3"])]},
         "properties": {"h3": row["h3"], "count": row["n"]}} for row in rows]}


def _ring(cell: str) -> list[list[float]]:
    points = [[round(lon, 6), round(lat, 6)] for lat, lon in h3.cell_to_boundary(cell)]
    return points + [points[0]]


def _shift(moment: datetime) -> str:
    hour = moment.astimezone(PARIS).hour
    for name, start, end in SHIFTS:
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return name
    return SHIFTS[-1][0]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 1)


def response_times(f: Filters) -> list[dict]:
    """Acknowledgement, dispatch and on-scene delays (seconds): median and 90th percentile by
    sector and shift, over the period's incidents (exercises left out)."""
    from incidents.selectors import incidents_created_between

    incidents = incidents_created_between(start=f.start, end=f.end)
    if f.categories:
        incidents = incidents.filter(category__code__in=f.categories)
    if f.sectors:
        incidents = incidents.filter(sector_id__in=f.sectors)
    rows = incidents.annotate(
        first_assigned=Min("assignments__assigned_at"),
        first_on_scene=Min("assignments__on_scene_at",
                           filter=Q(assignments__on_scene_at__isnull=False)),
    ).values_list("created_at", "acknowledged_at", "first_assigned", "first_on_scene",
                  "sector__name")
    groups: dict[tuple, dict[str, list]] = {}
    for created, acknowledged, assigned, on_scene, sector in rows:
        group = groups.setdefault((sector or gettext("hors secteur"), _shift(created)),
                                  {"ack": [], "dispatch": [], "on_scene": []})
        if acknowledged:
            group["ack"].append((acknowledged - created).total_seconds())
        if assigned and acknowledged:
            group["dispatch"].append(max(0.0, (assigned - acknowledged).total_seconds()))
        if on_scene and assigned:
            group["on_scene"].append((on_scene - assigned).total_seconds())
    result = []
    for (sector, shift), delays in sorted(groups.items(), key=_shift_order):
        if not any(delays.values()):
            continue  # no delay measured in this shift: no row of dashes
        row = {"sector": sector, "shift": shift, "incidents": len(delays["ack"])}
        for name, values in delays.items():
            row[f"{name}_p50"] = _percentile(values, 0.5)
            row[f"{name}_p90"] = _percentile(values, 0.9)
        result.append(row)
    return result


def _shift_order(item) -> tuple:
    (sector, shift), _delays = item
    return sector, [name for name, *_ in SHIFTS].index(shift)


def forecast_map(run: ForecastRun | None = None) -> dict:
    """The latest forecast's expected facts per cell over its week, as hexagons, with the
    accuracy its model measured on held-out weeks."""
    run = run or ForecastRun.objects.order_by("-created_at").first()
    if run is None:
        return {"type": "FeatureCollection", "features": [], "run": None}
    cells = run.cells.values_list("h3", "expected_week")
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": cell,
         "geometry": {"type": "Polygon", "coordinates": [_ring(cell)]},
         "properties": {"h3": cell, "expected": round(expected, 3)}}
        for cell, expected in cells],
        "run": {"id": run.pk, "origin": run.origin.isoformat(), "model": run.model,
                "evaluation": run.evaluation, "coefficients": run.coefficients}}


def hour_of_week_rows(f: Filters) -> list[dict]:
    """The hour-of-week grid as rows (a day each, one column per hour), for CSV."""
    from observatory.labels import DAYS

    return [{"day": str(DAYS[day]), **{f"{hour}h": n for hour, n in enumerate(hours)}}
            for day, hours in enumerate(hour_of_week(f))]


def response_times_minutes(f: Filters) -> list[dict]:
    """The response times with their delays in minutes and the shifts in words."""
    from observatory.labels import shift

    return [{key: (round(value / 60, 1) if key.endswith(("_p50", "_p90")) and value is not None
                   else value) for key, value in row.items()} | {"shift": shift(row["shift"])}
            for row in response_times(f)]


TABLES = {
    "categories": (lambda f: [{"category": row["label"], "code": row["category"],
                               "count": row["count"]} for row in by_category_labelled(f)],
                   ["category", "code", "count"]),
    "sectors": (by_sector, ["sector", "count"]),
    "trend": (trend, ["week", "count", "last_year"]),
    "hour_of_week": (hour_of_week_rows, ["day", *(f"{hour}h" for hour in range(24))]),
    "response_times": (response_times_minutes, ["sector", "shift", "incidents", "ack_p50", "ack_p90",
                                        "dispatch_p50", "dispatch_p90", "on_scene_p50",
                                        "on_scene_p90"]),
}
