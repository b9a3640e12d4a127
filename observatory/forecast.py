"""Risk forecasting per H3 cell and hour, and its honest evaluation.

The model is a Poisson regression (scikit-learn's ``PoissonRegressor``) of each cell's count
over the coming week on what is known at the forecast's origin:

- the cell's long-run rate (all the history before the origin, up to a year);
- its count over the last 7 and 28 days, and its neighbours' over the last 7 (near repeats:
  what happened recently nearby raises the risk, as self-exciting models of street crime find);
- the hours of public events expected near it during the week.

The weekly total is then spread over the hours by the city's hour-of-week profile, adjusted for
rain and for public events, both estimated from the history. The forecast is evaluated on
held-out weeks by the hit rate and the Predictive Accuracy Index (PAI) at a share of the city's
area (5 %): the cells of highest forecast risk covering that share, and the share of the week's
events that fell in them; PAI = hit rate / area share. The baseline is the naive one: the last
four weeks' counts per cell.

Pure numpy and scikit-learn: no Django. Times are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
from sklearn.linear_model import PoissonRegressor

HOUR = 3600.0
WEEK = 7 * 86400.0
FEATURES = ("long_rate", "last_7d", "last_28d", "near_7d", "event_hours")


@dataclass(frozen=True)
class Events:
    """What the model learns from: events (time, cell index) over a fixed list of cells."""

    cells: list[str]
    times: np.ndarray
    cell_index: np.ndarray
    event_cells: dict[int, list[tuple[float, float]]] | None = None  # cell → (start, end)

    def counts(self, start: float, end: float) -> np.ndarray:
        """Events per cell in [start, end)."""
        lo, hi = np.searchsorted(self.times, [start, end])
        return np.bincount(self.cell_index[lo:hi], minlength=len(self.cells)).astype(float)


def neighbour_matrix(cells: list[str]):
    """A sparse-ish adjacency (ring 1) as index lists."""
    index = {cell: i for i, cell in enumerate(cells)}
    return [[index[c] for c in h3.grid_ring(cell, 1) if c in index] for cell in cells]


def event_hours(events: Events, neighbours, start: float, end: float) -> np.ndarray:
    """Hours of public events in [start, end) within two rings of each cell."""
    hours = np.zeros(len(events.cells))
    for cell, spans in (events.event_cells or {}).items():
        total = sum(max(0.0, min(e, end) - max(s, start)) / HOUR for s, e in spans)
        if not total:
            continue
        near = {cell, *neighbours[cell]}
        near |= {n for c in list(near) for n in neighbours[c]}
        hours[list(near)] += total
    return hours


def features(events: Events, neighbours, origin: float) -> np.ndarray:
    since = max(float(events.times[0]) if len(events.times) else origin, origin - 365 * 86400)
    span_hours = max(1.0, (origin - since) / HOUR)
    long_rate = events.counts(since, origin) / span_hours
    last_7 = events.counts(origin - 7 * 86400, origin)
    last_28 = events.counts(origin - 28 * 86400, origin)
    near_7 = np.array([last_7[n].sum() for n in neighbours])
    upcoming = event_hours(events, neighbours, origin, origin + WEEK)
    return np.column_stack([np.log(long_rate * 168 + 0.05), np.log1p(last_7), np.log1p(last_28),
                            np.log1p(near_7), np.log1p(upcoming)])


@dataclass
class Model:
    regressor: PoissonRegressor
    profile: np.ndarray  # hour of week → relative rate (mean 1)
    rain_factor: float
    cells: list[str]

    def weekly(self, events: Events, neighbours, origin: float) -> np.ndarray:
        """Expected events per cell over the week starting at ``origin``."""
        return self.regressor.predict(features(events, neighbours, origin))

    def hourly(self, events: Events, neighbours, origin: float, *, rain=None) -> np.ndarray:
        """Expected events per cell and hour (cells × 168) for the week from ``origin``;
        ``rain``: per hour, 1 if rain is expected (default: none known)."""
        weekly = self.weekly(events, neighbours, origin)
        how = ((np.arange(168) * HOUR + origin) // HOUR).astype(int) % 168
        hour_of_week = (how + _weekday_offset(origin)) % 168
        shape = self.profile[hour_of_week].copy()
        if rain is not None:
            shape *= np.where(np.asarray(rain)[:168] == 1, self.rain_factor, 1.0)
        shape /= shape.sum()
        return np.outer(weekly, shape)


def _weekday_offset(origin: float) -> int:
    """Hours to add to an epoch hour count to get the hour of the week (Monday 0 h = 0)."""
    return 3 * 24  # 1970-01-01 was a Thursday: epoch hour 0 is hour 72 of its week


def hour_of_week(times: np.ndarray) -> np.ndarray:
    return ((times // HOUR).astype(np.int64) + _weekday_offset(0)) % 168


def fit(events: Events, neighbours, origins: list[float], *, rain=None,
        rain_start: float = 0.0, alpha: float = 1e-4) -> Model:
    """Fit on weekly windows starting at ``origins`` (each needs history before it)."""
    X = np.vstack([features(events, neighbours, origin) for origin in origins])
    y = np.concatenate([events.counts(origin, origin + WEEK) for origin in origins])
    regressor = PoissonRegressor(alpha=alpha, max_iter=300).fit(X, y)
    first, last = min(origins), max(origins) + WEEK
    lo, hi = np.searchsorted(events.times, [first, last])
    counts = np.bincount(hour_of_week(events.times[lo:hi]), minlength=168).astype(float)
    profile = (counts + 1) / (counts + 1).mean()
    rain_factor = 1.0
    if rain is not None and len(rain):
        hours = ((events.times[lo:hi] - rain_start) // HOUR).astype(int)
        inside = (hours >= 0) & (hours < len(rain))
        wet_events = np.sum(rain[hours[inside]] == 1)
        wet_hours = np.sum(rain == 1) or 1
        dry_hours = np.sum(rain == 0) or 1
        rain_factor = float((wet_events / wet_hours) / ((inside.sum() - wet_events) / dry_hours
                                                       or 1))
    return Model(regressor=regressor, profile=profile, rain_factor=rain_factor,
                 cells=events.cells)


# --- evaluation -----------------------------------------------------------------------------------
def top_cells(scores: np.ndarray, share: float) -> np.ndarray:
    """The cells of highest score covering ``share`` of the cells (equal-area H3 cells),
    ties broken by cell order so the choice is reproducible."""
    k = max(1, int(round(share * len(scores))))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return order[:k]


def hit_rate_and_pai(scores: np.ndarray, actual: np.ndarray, share: float = 0.05
                     ) -> tuple[float, float]:
    """Share of the actual events in the top cells, and that share over the area share."""
    chosen = top_cells(scores, share)
    total = actual.sum()
    if not total:
        return 0.0, 0.0
    hit = float(actual[chosen].sum() / total)
    area = len(chosen) / len(scores)
    return hit, hit / area


def baseline_scores(events: Events, origin: float) -> np.ndarray:
    """The naive forecast: each cell's count over the last four weeks."""
    return events.counts(origin - 28 * 86400, origin)


@dataclass(frozen=True)
class Evaluation:
    weeks: int
    share: float
    model_hit: float
    model_pai: float
    baseline_hit: float
    baseline_pai: float
    per_week: list[dict]

    def as_dict(self) -> dict:
        return {"weeks": self.weeks, "share": self.share, "model_hit": self.model_hit,
                "model_pai": self.model_pai, "baseline_hit": self.baseline_hit,
                "baseline_pai": self.baseline_pai, "per_week": self.per_week}


def evaluate(events: Events, *, first_origin: float, test_origins: list[float],
             share: float = 0.05, rain=None, rain_start: float = 0.0) -> tuple[Model, Evaluation]:
    """Fit on the weeks before the first held-out week, judge on the held-out weeks."""
    neighbours = neighbour_matrix(events.cells)
    cutoff = min(test_origins)
    train = [o for o in np.arange(first_origin, cutoff - WEEK + 1, WEEK)]
    model = fit(events, neighbours, train, rain=rain, rain_start=rain_start)
    rows = []
    for origin in test_origins:
        actual = events.counts(origin, origin + WEEK)
        m_hit, m_pai = hit_rate_and_pai(model.weekly(events, neighbours, origin), actual, share)
        b_hit, b_pai = hit_rate_and_pai(baseline_scores(events, origin), actual, share)
        rows.append({"origin": origin, "events": int(actual.sum()), "model_hit": m_hit,
                     "model_pai": m_pai, "baseline_hit": b_hit, "baseline_pai": b_pai})
    mean = {key: float(np.mean([r[key] for r in rows])) for key in
            ("model_hit", "model_pai", "baseline_hit", "baseline_pai")}
    return model, Evaluation(weeks=len(rows), share=share, per_week=rows, **mean)


# --- normal or abnormal ---------------------------------------------------------------------------
def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected)."""
    from scipy.stats import poisson

    if observed <= 0:
        return 1.0
    return float(poisson.sf(observed - 1, max(expected, 1e-9)))
