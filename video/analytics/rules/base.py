"""Rule evaluators: the machinery every rule shares (parameters, zones, schedules, the
fire-once-then-clear life of a situation). What the rules are and report is told in the
package's docstring."""

import math
from dataclasses import dataclass
from datetime import datetime, time
from numbers import Real

import cv2
import numpy as np

from ..types import Box, Event, FrameAnalysis, Track, Zone

# The area used when a rule is given no zone: the whole frame.
WHOLE_FRAME = Zone(name="", points=((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)))


@dataclass(frozen=True)
class Schedule:
    """A daily window; one crossing midnight (22:00–06:00) belongs to the day it starts on."""

    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))  # 0 = Monday, as datetime.weekday()

    def __post_init__(self):
        days = frozenset(self.days)
        if not days or not days <= set(range(7)):
            raise ValueError("Horaire : les jours vont de 0 (lundi) à 6 (dimanche).")
        object.__setattr__(self, "days", days)

    def active(self, moment: datetime) -> bool:
        now, day = moment.time(), moment.weekday()
        if self.start == self.end:
            return day in self.days
        if self.start < self.end:
            return self.start <= now < self.end and day in self.days
        if now >= self.start:
            return day in self.days
        return now < self.end and (day - 1) % 7 in self.days


# --- parameters ---------------------------------------------------------------------------------

def _check(params, name: str, *, minimum=None, maximum=None, strict=False, integer=False):
    value = getattr(params, name)
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"Paramètre « {name} » : un nombre est attendu.")
    if integer and int(value) != value:
        raise ValueError(f"Paramètre « {name} » : un nombre entier est attendu.")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        sign = ">" if strict else "≥"
        raise ValueError(f"Paramètre « {name} » : doit être {sign} {minimum}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"Paramètre « {name} » : doit être ≤ {maximum}.")


def _check_labels(params):
    labels = params.labels
    if isinstance(labels, str) or not all(isinstance(label, str) for label in labels):
        raise ValueError("Paramètre « labels » : une liste de libellés est attendue.")
    params.labels = tuple(labels)


@dataclass
class RuleParams:
    clear_seconds: float = 3.0  # how long a situation must be over before it may fire again

    def __post_init__(self):
        self.validate()

    def validate(self):
        _check(self, "clear_seconds", minimum=0)


# --- shared machinery ---------------------------------------------------------------------------

class _Onsets:
    """Situations by key: one fires once it has lasted ``hold`` seconds, then stays quiet; a key
    absent for more than ``clear`` seconds is forgotten, so it may fire again."""

    def __init__(self, hold: float, clear: float):
        self.hold, self.clear = hold, clear
        self._state: dict = {}  # key -> [since, last_seen, fired]

    def update(self, present, t: float) -> list:
        started = []
        for key in present:
            state = self._state.setdefault(key, [t, t, False])
            state[1] = t
            if not state[2] and t - state[0] >= self.hold - 1e-6:  # float frame times
                state[2] = True
                started.append(key)
        for key in [k for k, s in self._state.items()
                    if k not in present and t - s[1] > self.clear]:
            del self._state[key]
        return started

    def since(self, key) -> float:
        return self._state[key][0]


def _num(value, digits: int = 2):
    return round(float(value), digits)


def _grade(value: float, threshold: float) -> float:
    """0.6 at the threshold, rising to 1.0 at twice the threshold."""
    if threshold <= 0:
        return 1.0
    return _num(min(1.0, 0.6 + 0.4 * max(0.0, min(1.0, value / threshold - 1.0))))


def _blobs(mask: np.ndarray, min_area: int, max_area: float = math.inf) -> list[Box]:
    """Bounding boxes of the connected components of a 0/255 mask within an area range."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), 8)
    return [Box(int(x), int(y), int(w), int(h)) for x, y, w, h, area in stats[1:count]
            if min_area <= area <= max_area]


def _live_tracks(analysis: FrameAnalysis, labels=()) -> list[Track]:
    return [t for t in analysis.tracks if t.missed == 0 and (not labels or t.label in labels)]


def _objects(analysis: FrameAnalysis, labels=()) -> list[tuple[Box, float]]:
    """Boxes and scores of what is seen: live tracks, else raw detections."""
    tracks = _live_tracks(analysis, labels)
    if tracks:
        return [(t.box, 0.9) for t in tracks]
    return [(d.box, d.score) for d in analysis.detections if not labels or d.label in labels]


def _mask_box(mask: np.ndarray) -> Box | None:
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
               int(ys.max() - ys.min() + 1))


class Rule:
    """One rule for one camera: ``evaluate`` each analysed frame, in order."""

    name = ""
    Params = RuleParams
    zone_kind = "zone"
    needs_zone = False
    default_schedule: Schedule | None = None

    def __init__(self, params=None, zones=(), schedule: Schedule | None = None):
        params = self.Params() if params is None else params
        if not isinstance(params, self.Params):
            raise ValueError(f"Règle « {self.name} » : paramètres de type inattendu.")
        self.params = params
        self.zones = [z for z in zones if z.kind == self.zone_kind]
        least = 2 if self.zone_kind == "line" else 3
        for zone in self.zones:
            if len(zone.points) < least:
                raise ValueError(f"Zone « {zone.name} » : au moins {least} points sont attendus.")
        if self.needs_zone and not self.zones:
            raise ValueError(f"La règle « {self.name} » demande au moins une zone adaptée.")
        self.schedule = schedule or self.default_schedule
        self._shapes: dict = {}
        self.reset()

    def reset(self):
        """Forget everything followed so far (also done when leaving the schedule)."""

    def evaluate(self, analysis: FrameAnalysis) -> list[Event]:
        if self.schedule is not None and not self.schedule.active(analysis.wall_time):
            self.reset()
            return []
        return self._evaluate(analysis)

    def _evaluate(self, analysis: FrameAnalysis) -> list[Event]:
        raise NotImplementedError

    # Zones -----------------------------------------------------------------------------------
    @property
    def areas(self) -> list[Zone]:
        return self.zones or [WHOLE_FRAME]

    def _polygon(self, zone: Zone, size: tuple[int, int]) -> np.ndarray:
        key = ("poly", zone, size)
        if key not in self._shapes:
            self._shapes[key] = zone.pixels(*size).astype(np.float32)
        return self._shapes[key]

    def _mask(self, zone: Zone, size: tuple[int, int]) -> np.ndarray:
        """Boolean mask of the zone at ``size`` (width, height)."""
        key = ("mask", zone, size)
        if key not in self._shapes:
            mask = np.zeros((size[1], size[0]), np.uint8)
            cv2.fillPoly(mask, [zone.pixels(*size)], 255)
            self._shapes[key] = mask > 0
        return self._shapes[key]

    def _inside(self, zone: Zone, point, size) -> bool:
        point = (float(point[0]), float(point[1]))
        return cv2.pointPolygonTest(self._polygon(zone, size), point, False) >= 0

    def _zone_of(self, box: Box, size) -> Zone | None:
        return next((z for z in self.areas if self._inside(z, box.bottom_center, size)), None)

    def _event(self, analysis, zone: str, confidence: float, box=None, statistic=False,
               **details) -> Event:
        return Event(rule=self.name, zone=zone, confidence=_num(min(1.0, max(0.0, confidence))),
                     t=analysis.t, wall_time=analysis.wall_time, box=box, details=details,
                     statistic=statistic)
