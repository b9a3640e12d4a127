"""Telemetry rules: evaluating a rule over readings, and bucketing readings for storage (no
Django)."""

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from devices.telemetry_rules.rules import (
    Reading,
    Rule,
    _aggregate_label,
    _duration,
    _moment,
    _number,
    _require_aware,
    leq,
    mean,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_US_PER_S = 1_000_000
# A window aggregate computed from prefix sums is recomputed directly when its magnitude is below
# this fraction of the running total (the subtraction would otherwise lose too many digits).
_CANCELLATION_RATIO = 1e-6


# --- Evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`.

    ``value`` is the aggregate at ``now`` (None when its window holds no reading), ``samples``
    the number of readings it was computed from, ``held_since`` the earliest moment from which the
    condition has held continuously up to ``now`` (None when it does not hold at ``now``),
    ``reason`` a French explanation for operators and logs.
    """

    triggered: bool
    value: float | None
    held_since: datetime | None
    samples: int
    reason: str


@dataclass
class _Series:
    """Readings sorted by time, times in integer microseconds since the Unix epoch."""

    times: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def _to_us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _from_us(us: int, tz: tzinfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(tz)


def _prepare(readings: Iterable[Reading]) -> _Series:
    """Sort readings by time (stable: equal times keep their order), skipping non-finite values."""
    pairs = []
    for moment, value in readings:
        _require_aware(moment, "mesure")
        value = float(value)
        if math.isfinite(value):
            pairs.append((_to_us(moment), value))
    pairs.sort(key=lambda pair: pair[0])
    return _Series([t for t, _ in pairs], [v for _, v in pairs])


class _Sliding:
    """Aggregates over index ranges ``[lo, hi)`` of a sorted series.

    "mean" and "leq" use prefix sums (of values, of energies relative to the loudest value), so
    each window costs O(1) after an O(n) pass. "max" and "min" use a monotonic deque and require
    calls with non-decreasing ``lo`` and ``hi`` (amortised O(1) each). "instant" takes index
    ``hi - 1``.
    """

    def __init__(self, aggregation: str, values: Sequence[float]):
        self.aggregation = aggregation
        self.values = values
        self.prefix: list[float] = []
        self.magnitude: list[float] = []
        self.reference = 0.0
        if aggregation in ("mean", "leq"):
            if aggregation == "leq":
                self.reference = max(values, default=0.0)
                terms = [10.0 ** ((v - self.reference) / 10.0) for v in values]
            else:
                terms = list(values)
            self.terms = terms
            total = magnitude = 0.0
            self.prefix.append(0.0)
            self.magnitude.append(0.0)
            for term in terms:
                total += term
                magnitude += abs(term)
                self.prefix.append(total)
                self.magnitude.append(magnitude)
        self.window: deque[int] = deque()
        self.pushed = 0

    def at(self, lo: int, hi: int) -> float | None:
        if hi <= lo:
            return None
        if self.aggregation == "instant":
            return self.values[hi - 1]
        if self.aggregation in ("mean", "leq"):
            count = hi - lo
            total = self.prefix[hi] - self.prefix[lo]
            window_magnitude = self.magnitude[hi] - self.magnitude[lo]
            if window_magnitude < _CANCELLATION_RATIO * self.magnitude[hi]:
                total = math.fsum(self.terms[lo:hi])
            if self.aggregation == "mean":
                return total / count
            if total <= 0.0:  # every energy underflowed: compute this window on its own
                return leq(self.values[lo:hi])
            return self.reference + 10.0 * math.log10(total / count)
        keep_first = (lambda new, old: new >= old) if self.aggregation == "max" else (
            lambda new, old: new <= old)
        while self.pushed < hi:
            value = self.values[self.pushed]
            while self.window and keep_first(value, self.values[self.window[-1]]):
                self.window.pop()
            self.window.append(self.pushed)
            self.pushed += 1
        while self.window[0] < lo:
            self.window.popleft()
        return self.values[self.window[0]]


def _typical_interval_us(times: Sequence[int]) -> int:
    """Median of the positive gaps between consecutive reading times (0 with fewer than two)."""
    gaps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
    if not gaps:
        return 0
    middle = len(gaps) // 2
    if len(gaps) % 2:
        return gaps[middle]
    return (gaps[middle - 1] + gaps[middle]) // 2


def _count_at_or_before(times: Sequence[int], limit: int, start: int = 0) -> int:
    """Number of ``times`` ≤ ``limit``, scanning forward from index ``start`` (times sorted)."""
    index = start
    while index < len(times) and times[index] <= limit:
        index += 1
    return index


def evaluate(rule: Rule, readings: Iterable[Reading], now: datetime,
             tz: ZoneInfo | tzinfo) -> Evaluation:
    """Evaluate ``rule`` at ``now`` over ``readings`` (the rule's metric, any order).

    * Readings after ``now`` are ignored. Only the readings passed are considered: with
      "instant", the latest one at or before ``now`` counts however old it is, so the caller
      bounds staleness by what it loads.
    * Outside the rule's time window (read in ``tz``): not triggered; ``value`` and ``samples``
      still describe the aggregate at ``now`` for information, ``held_since`` is None.
    * No reading in the aggregation window ``(now - window, now]`` (for "instant": none at or
      before ``now``): not triggered, ``value`` None, ``samples`` 0.
    * ``duration_seconds == 0``: triggered when the aggregate at ``now`` satisfies the comparison.

    Duration and coverage (``duration_seconds = D > 0``). The aggregate is evaluated at these
    *evaluation points*: every reading time at or before ``now``, every moment a reading leaves
    the sliding window (reading time + ``window_seconds``, when ≤ ``now``; this adds nothing for
    regular sampling but catches the dip when a loud reading expires before the next one
    arrives), and ``now`` itself. Between two consecutive points the aggregate is constant, so
    checking the points checks every moment. ``held_since`` is the earliest point from which the
    condition holds at every point up to ``now``; a point whose window is empty breaks the run
    (for windowed aggregations a data gap longer than the window therefore resets it); when the
    condition holds from the earliest reading passed, ``held_since`` is that reading's time, as
    nothing is known before it. The rule triggers when

        ``held_since <= now - D + tolerance``

    where ``tolerance`` is one typical sampling interval: the median of the positive gaps between
    consecutive readings in ``[now - D - window, now]`` (0 with fewer than two such readings).
    The tolerance is what lets exactly D seconds of data trigger: a 10-minute window of 1 Hz
    readings ending at ``now`` starts one second after ``now - 600 s``. With only 5 minutes of
    readings (the earliest available data), ``held_since`` is ``now - 5 min`` and a 10-minute
    duration does not trigger.

    Cost: O(n log n) for sorting and O(n) for the evaluation points, n being the number of
    readings at or before ``now``; callers should pass readings from about
    ``now - duration - window`` (older ones only make ``held_since`` go further back).
    """
    _require_aware(now, "instant d'évaluation")
    series = _prepare(readings)
    now_us = _to_us(now)
    count = _count_at_or_before(series.times, now_us)
    times, values = series.times[:count], series.values[:count]
    window_us = rule.window_seconds * _US_PER_S
    duration_us = rule.duration_seconds * _US_PER_S
    label = _aggregate_label(rule)

    if rule.aggregation == "instant":
        current_lo = max(count - 1, 0)
    else:
        current_lo = _count_at_or_before(times, now_us - window_us)
    samples = count - current_lo
    current = _Sliding(rule.aggregation, values).at(current_lo, count) if samples else None

    if rule.time_window is not None and not rule.time_window.contains(now, tz):
        return Evaluation(False, current, None, samples,
                          f"hors plage horaire ({rule.time_window.describe()})")
    if current is None:
        where = ("aucune mesure disponible" if rule.aggregation == "instant"
                 else f"aucune mesure dans la fenêtre de {_duration(rule.window_seconds)}")
        return Evaluation(False, None, None, 0, f"{where} pour « {rule.metric} »")

    shown = f"{label} = {_number(current)}"
    if not rule.holds(current):
        return Evaluation(False, current, None, samples,
                          f"{shown}, condition {rule.comparison} {_number(rule.threshold)} "
                          "non remplie")

    held_since_us = _held_since(rule, times, values, now_us, window_us)
    held_since = _from_us(held_since_us, tz)
    condition = f"{shown} {rule.comparison} {_number(rule.threshold)}"
    if duration_us == 0:
        return Evaluation(True, current, held_since, samples, f"{condition} : condition remplie")

    span_start = _count_at_or_before(times, now_us - duration_us - window_us - 1)
    tolerance_us = _typical_interval_us(times[span_start:])
    since = _moment(held_since, now.astimezone(tz))
    if held_since_us <= now_us - duration_us + tolerance_us:
        return Evaluation(True, current, held_since, samples,
                          f"{condition} depuis {since} (durée requise "
                          f"{_duration(rule.duration_seconds)}) : condition remplie")
    return Evaluation(False, current, held_since, samples,
                      f"{condition} depuis {since} seulement ; durée requise "
                      f"{_duration(rule.duration_seconds)}")


def _held_since(rule: Rule, times: Sequence[int], values: Sequence[float], now_us: int,
                window_us: int) -> int:
    """Earliest evaluation point from which the condition holds at every point up to ``now``.

    The caller has checked that the condition holds at ``now``.
    """
    points = set(times)
    if window_us:
        points.update(t + window_us for t in times if t + window_us <= now_us)
    points.add(now_us)
    ordered = sorted(points)
    sliding = _Sliding(rule.aggregation, values)
    holds: list[bool] = []
    lo = hi = 0
    for point in ordered:
        hi = _count_at_or_before(times, point, hi)
        if rule.aggregation == "instant":
            lo = max(hi - 1, 0)
        else:
            lo = _count_at_or_before(times, point - window_us, lo)
        holds.append(rule.holds(sliding.at(lo, hi)))
    index = len(ordered) - 1
    while index > 0 and holds[index - 1]:
        index -= 1
    return ordered[index]


# --- Buckets ---------------------------------------------------------------------------------


def bucket(readings: Iterable[Reading], seconds: int) -> list[tuple[datetime, dict]]:
    """Aggregate readings into buckets of ``seconds``, aligned on multiples of ``seconds`` since
    the Unix epoch (UTC), for compact storage.

    Returns ``(bucket start in UTC, {"start", "end", "count", "mean", "min", "max", "leq"})`` for
    each non-empty bucket, in chronological order; ``end`` is excluded from the bucket. A reading
    exactly on a boundary belongs to the bucket that starts there. Non-finite values are ignored.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        raise ValueError(f"la taille des intervalles doit être un entier positif de secondes, "
                         f"reçu « {seconds!r} »")
    series = _prepare(readings)
    size_us = seconds * _US_PER_S
    groups: list[tuple[int, list[float]]] = []
    for moment, value in zip(series.times, series.values):
        start_us = moment // size_us * size_us
        if groups and groups[-1][0] == start_us:
            groups[-1][1].append(value)
        else:
            groups.append((start_us, [value]))
    result = []
    for start_us, group in groups:
        start = _from_us(start_us, UTC)
        result.append((start, {
            "start": start,
            "end": start + timedelta(seconds=seconds),
            "count": len(group),
            "mean": mean(group),
            "min": min(group),
            "max": max(group),
            "leq": leq(group),
        }))
    return result
