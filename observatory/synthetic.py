"""A synthetic history of a city's public-tranquillity events, with known structure.

For tests, the demo and the benchmark: years of events over the H3 cells (resolution 9) of a
city, drawn from a self-exciting point process whose parts are all known:

- a background rate per cell: a low floor everywhere, and hotspots (a few centres whose rate
  decays with the grid distance);
- a weekly profile (nights and weekends) and an annual one (summer);
- weather: rainy hours (a Markov chain) lower the rate;
- public events: on their days, the rate rises around their place;
- near-repeat excitation: every event has on average ``alpha`` offspring, in the same cell or a
  neighbour, after an exponential delay (the self-exciting part the predictive-policing
  literature measures on burglaries and street disorder).

Pure Python and numpy (and h3): no Django. Times are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import h3
import numpy as np

HOUR = 3600.0
RESOLUTION = 9

# Categories of the taxonomy the generator draws from, with their day and night weights.
CATEGORIES = (
    ("nuisance_sonore", 0.6, 3.0), ("rassemblement", 0.5, 2.0), ("rixe", 0.2, 1.2),
    ("degradation", 1.0, 1.0), ("depot_sauvage", 1.5, 0.3), ("stationnement_genant", 2.0, 0.3),
    ("vol", 1.0, 0.6), ("ivresse", 0.2, 1.0),
)


@dataclass
class Settings:
    days: int = 730
    daily_events: float = 60.0  # background events per day, city-wide, on average
    hotspots: int = 8
    hotspot_share: float = 0.55  # of the background falling in the hotspots
    alpha: float = 0.35  # offspring per event
    delay_hours: float = 36.0  # mean delay of an offspring
    rain_effect: float = 0.6  # rate multiplier while it rains
    events_per_year: int = 24  # public events
    event_boost: float = 4.0  # rate multiplier near a public event on its day


@dataclass
class History:
    cells: list[str]
    times: np.ndarray  # seconds since epoch, sorted
    cell_index: np.ndarray  # index into cells
    category_index: np.ndarray  # index into CATEGORIES
    rain: np.ndarray  # per hour from start: 1 when it rains
    public_events: list[dict] = field(default_factory=list)
    start: float = 0.0
    background: np.ndarray | None = None  # per cell, events per hour (known truth)

    @property
    def categories(self) -> list[str]:
        return [code for code, *_ in CATEGORIES]

    def __len__(self) -> int:
        return len(self.times)


def city_cells(outline: list[tuple[float, float]], resolution: int = RESOLUTION) -> list[str]:
    """The H3 cells whose centre lies in the outline ((lat, lon) points)."""
    polygon = h3.LatLngPoly([(lat, lon) for lat, lon in outline])
    return sorted(h3.polygon_to_cells(polygon, resolution))


def weekly_profile() -> np.ndarray:
    """Relative rate for each hour of the week (Monday 0 h = 0), mean 1."""
    hours = np.arange(168)
    hour = hours % 24
    day = hours // 24
    from_midnight = np.minimum(hour, 24 - hour)  # hours away from midnight
    night = np.exp(-(from_midnight ** 2) / 8.0)
    daytime = 0.6 + 0.5 * np.exp(-(hour - 15) ** 2 / 20.0)
    weekend = np.where((day == 4) | (day == 5), 1.7, 1.0)  # Friday and Saturday nights
    profile = (daytime + 1.6 * night * weekend) * np.where(day == 6, 0.8, 1.0)
    return profile / profile.mean()


def generate(outline, *, seed: int = 2026, start: float = 1.6725312e9,
             settings: Settings | None = None) -> History:
    """Draw a history; ``start`` defaults to 2023-01-01 00:00 UTC (a Sunday)."""
    s = settings or Settings()
    rng = np.random.default_rng(seed)
    cells = city_cells(outline)
    n_cells, n_hours = len(cells), s.days * 24
    index = {cell: i for i, cell in enumerate(cells)}

    # Background: a floor everywhere, and hotspots decaying with grid distance.
    centres = rng.choice(n_cells, size=min(s.hotspots, n_cells), replace=False)
    weight = np.zeros(n_cells)
    for c in centres:
        strength = rng.uniform(0.5, 1.5)
        for k, ring in enumerate(_rings(cells[c], 4)):
            for cell in ring:
                if cell in index:
                    weight[index[cell]] += strength * math.exp(-k / 1.2)
    weight = s.hotspot_share * weight / weight.sum() + (1 - s.hotspot_share) / n_cells
    background = weight * s.daily_events / 24.0  # per cell per hour

    # Time: weekly and annual profiles, rain, public events.
    hours = np.arange(n_hours)
    start_weekday = int(((start // 86400) + 3) % 7)  # 1970-01-01 was a Thursday (3)
    hour_of_week = (hours + start_weekday * 24 + int(start % 86400 // 3600)) % 168
    profile = weekly_profile()[hour_of_week]
    day_of_year = ((start / 86400 + hours / 24) % 365.25)
    annual = 1 + 0.25 * np.sin(2 * np.pi * (day_of_year - 100) / 365.25)
    rain = _rain(rng, n_hours)
    temporal = profile * annual * np.where(rain == 1, s.rain_effect, 1.0)

    public_events = []
    boost = {}
    for _ in range(int(s.events_per_year * s.days / 365)):
        day = int(rng.integers(0, s.days))
        cell = cells[int(rng.choice(centres)) if rng.random() < 0.5 else int(rng.integers(n_cells))]
        lat, lon = h3.cell_to_latlng(cell)
        public_events.append({"start": start + day * 86400 + 14 * HOUR,
                              "end": start + day * 86400 + 26 * HOUR, "cell": cell,
                              "lat": lat, "lon": lon,
                              "attendance": int(rng.integers(500, 20000))})
        near = [index[c] for ring in _rings(cell, 2) for c in ring if c in index]
        for h in range(day * 24 + 14, min(n_hours, day * 24 + 26)):
            boost.setdefault(h, set()).update(near)

    # Immigrants: Poisson per hour (city-wide), spread over cells by the background weights.
    expected = temporal * background.sum()
    counts = rng.poisson(expected)
    times, where = [], []
    for h in np.flatnonzero(counts):
        n = counts[h]
        probabilities = background
        if h in boost:
            probabilities = background.copy()
            probabilities[list(boost[h])] *= s.event_boost
        picked = rng.choice(n_cells, size=n, p=probabilities / probabilities.sum())
        times.extend(start + (h + rng.random(n)) * HOUR)
        where.extend(picked)
    times = np.asarray(times)
    where = np.asarray(where, dtype=np.int64)

    # Offspring, generation after generation.
    end = start + n_hours * HOUR
    generation_t, generation_c = times, where
    all_t, all_c = [times], [where]
    neighbours = [[index[c] for c in h3.grid_ring(cell, 1) if c in index] for cell in cells]
    while len(generation_t):
        kids = rng.poisson(s.alpha, size=len(generation_t))
        parents = np.repeat(np.arange(len(generation_t)), kids)
        if not len(parents):
            break
        t = generation_t[parents] + rng.exponential(s.delay_hours * HOUR, size=len(parents))
        c = generation_c[parents].copy()
        move = rng.random(len(parents)) < 0.4
        for i in np.flatnonzero(move):
            ring = neighbours[c[i]]
            if ring:
                c[i] = ring[int(rng.integers(len(ring)))]
        keep = t < end
        generation_t, generation_c = t[keep], c[keep]
        all_t.append(generation_t)
        all_c.append(generation_c)
    times = np.concatenate(all_t)
    where = np.concatenate(all_c)
    order = np.argsort(times, kind="stable")
    times, where = times[order], where[order]

    # Categories: by hour of day (night weights from 21 h to 5 h).
    hour_of_day = ((times % 86400) // 3600).astype(int)
    is_night = (hour_of_day >= 21) | (hour_of_day < 5)
    day_w = np.array([d for _c, d, _n in CATEGORIES])
    night_w = np.array([n for _c, _d, n in CATEGORIES])
    category = np.where(
        is_night,
        rng.choice(len(CATEGORIES), size=len(times), p=night_w / night_w.sum()),
        rng.choice(len(CATEGORIES), size=len(times), p=day_w / day_w.sum()),
    )
    return History(cells=cells, times=times, cell_index=where, category_index=category,
                   rain=rain, public_events=public_events, start=start,
                   background=background)


def _rings(cell: str, k: int) -> list[list[str]]:
    return [[cell]] + [list(h3.grid_ring(cell, i)) for i in range(1, k + 1)]


def _rain(rng, n_hours: int) -> np.ndarray:
    """Rainy hours from a two-state Markov chain (about 8 % of hours, in spells)."""
    rain = np.zeros(n_hours, dtype=np.int8)
    state = 0
    draws = rng.random(n_hours)
    for h in range(n_hours):
        state = (1 if draws[h] < 0.02 else 0) if state == 0 else (0 if draws[h] < 0.22 else 1)
        rain[h] = state
    return rain
