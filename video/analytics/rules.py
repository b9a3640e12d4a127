"""Rule evaluators: turn what the pipeline sees into events.

The events are the predetermined situations that décret n° 2023-828 lets algorithmic video
processing report (abandoned object, wrong direction, intrusion, person on the ground, crowd
movement, excessive density, fire start), plus loitering and line-crossing counts. Rules look at
boxes, masks and pixels, never at faces or identities.

Each rule is built as ``Rule(params, zones, schedule=None)`` for one camera and keeps its own
state. ``evaluate(analysis)`` returns the events of that frame: a situation fires once when it
starts, stays quiet while it lasts, and may fire again once it has been over for
``clear_seconds`` — so the caller can deduplicate per (camera, rule, zone). Outside its schedule a
rule says nothing and forgets what it was following.

Positions tested against zones are bottom-centres of boxes (where a person stands). Pixel sizes
and speeds are in pixels of the analysed frame; times are ``FrameAnalysis.t`` seconds.
"""

import math
from collections import deque
from dataclasses import dataclass, fields
from datetime import datetime, time
from numbers import Real

import cv2
import numpy as np

from .types import Box, Event, FrameAnalysis, Track, Zone

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


# --- 1. abandoned object ------------------------------------------------------------------------

@dataclass
class AbandonedObjectParams(RuleParams):
    min_seconds: float = 30.0  # unattended and still for this long
    min_area: int = 80  # pixels of the blob
    max_area_fraction: float = 0.1  # larger blobs are lighting changes or crowds
    min_iou: float = 0.7  # box overlap with where it was first seen: "not moving"

    def validate(self):
        super().validate()
        _check(self, "min_seconds", minimum=0)
        _check(self, "min_area", minimum=1, integer=True)
        _check(self, "max_area_fraction", minimum=0, maximum=1, strict=True)
        _check(self, "min_iou", minimum=0, maximum=1, strict=True)


@dataclass
class _Blob:
    anchor: Box  # the box where it came to rest
    box: Box
    since: float  # still and unattended since
    last_seen: float
    fired: bool = False


class AbandonedObject(Rule):
    """A new foreground blob that stays put, with no person on it, for ``min_seconds``.

    Blobs are the connected components of the foreground mask, followed here from frame to frame;
    this assumes the pipeline's background learns slower than ``min_seconds``.
    """

    name = "abandoned_object"
    Params = AbandonedObjectParams

    def reset(self):
        self._blobs: list[_Blob] = []

    def _evaluate(self, analysis):
        p, t, (w, h) = self.params, analysis.t, analysis.size
        mask = cv2.morphologyEx(analysis.foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        seen = _blobs(mask, p.min_area, p.max_area_fraction * w * h)
        people = [box for box, _ in _objects(analysis, ("person",))]
        pairs = sorted(((box.iou(b.box), i, j) for i, box in enumerate(seen)
                        for j, b in enumerate(self._blobs)), reverse=True)
        taken_seen, taken_blob = set(), set()
        for overlap, i, j in pairs:
            if overlap < 0.3 or i in taken_seen or j in taken_blob:
                continue
            taken_seen.add(i)
            taken_blob.add(j)
            blob = self._blobs[j]
            blob.box, blob.last_seen = seen[i], t
            if seen[i].iou(blob.anchor) < p.min_iou:  # it moved: it comes to rest again
                blob.anchor, blob.since, blob.fired = seen[i], t, False
        self._blobs += [_Blob(box, box, t, t) for i, box in enumerate(seen) if i not in taken_seen]
        self._blobs = [b for b in self._blobs if t - b.last_seen <= p.clear_seconds]
        events = []
        for blob in self._blobs:
            if blob.last_seen != t:
                continue
            if any(blob.box.iou(person) > 0 for person in people):
                blob.since = t  # attended: the clock starts when the person leaves it
                continue
            zone = self._zone_of(blob.box, (w, h))
            still = t - blob.since
            if blob.fired or zone is None or still < p.min_seconds:
                continue
            blob.fired = True
            events.append(self._event(
                analysis, zone.name, _grade(still, p.min_seconds) + 0.2 * blob.box.iou(blob.anchor),
                box=blob.box, seconds=_num(still, 1), area=blob.box.area))
        return events


# --- 2. wrong direction -------------------------------------------------------------------------

@dataclass
class WrongDirectionParams(RuleParams):
    min_speed: float = 20.0  # pixels per second
    min_seconds: float = 1.0
    max_cosine: float = -0.5  # against the allowed direction

    def validate(self):
        super().validate()
        _check(self, "min_speed", minimum=0)
        _check(self, "min_seconds", minimum=0)
        _check(self, "max_cosine", minimum=-1, maximum=1)


class WrongDirection(Rule):
    """A track in a zone with a direction, moving against it fast enough for ``min_seconds``."""

    name = "wrong_direction"
    Params = WrongDirectionParams
    needs_zone = True

    def __init__(self, params=None, zones=(), schedule=None):
        super().__init__(params, [z for z in zones if z.direction], schedule)

    def reset(self):
        self._onsets = _Onsets(self.params.min_seconds, self.params.clear_seconds)

    def _evaluate(self, analysis):
        p, size = self.params, analysis.size
        present = {}
        for track in _live_tracks(analysis):
            vx, vy = track.velocity()
            speed = math.hypot(vx, vy)
            if speed < p.min_speed:
                continue
            for zone in self.zones:
                dx, dy = zone.direction[0] * size[0], zone.direction[1] * size[1]
                norm = math.hypot(dx, dy)
                cosine = (vx * dx + vy * dy) / (speed * norm) if norm else 1.0
                if cosine < p.max_cosine and self._inside(zone, track.box.bottom_center, size):
                    present[(zone.name, track.id)] = (track, speed, cosine)
        return [self._event(analysis, key[0], _grade(speed, p.min_speed), box=track.box,
                            track=track.id, speed=_num(speed, 1), cosine=_num(cosine))
                for key in self._onsets.update(present, analysis.t)
                for track, speed, cosine in [present[key]]]


# --- 3. intrusion -------------------------------------------------------------------------------

@dataclass
class IntrusionParams(RuleParams):
    labels: tuple[str, ...] = ()  # what counts as an intruder; empty: anything tracked
    min_area: int = 300  # foreground blob size used when nothing is detected
    min_seconds: float = 0.0

    def validate(self):
        super().validate()
        _check_labels(self)
        _check(self, "min_area", minimum=1, integer=True)
        _check(self, "min_seconds", minimum=0)


class Intrusion(Rule):
    """Something enters a forbidden zone: a track (or detection), else a foreground blob."""

    name = "intrusion"
    Params = IntrusionParams
    needs_zone = True

    def reset(self):
        self._onsets = _Onsets(self.params.min_seconds, self.params.clear_seconds)

    def _evaluate(self, analysis):
        p, size = self.params, analysis.size
        source = "tracks" if _live_tracks(analysis, p.labels) else "detections"
        found = _objects(analysis, p.labels)
        if not analysis.tracks and not analysis.detections:
            source = "foreground"
            found = [(box, 0.6) for box in _blobs(analysis.foreground, p.min_area)]
        present = {}
        for zone in self.zones:
            inside = [(box, score) for box, score in found
                      if self._inside(zone, box.bottom_center, size)]
            if inside:
                present[zone.name] = inside
        return [self._event(analysis, name, max(s for _, s in present[name]),
                            box=present[name][0][0], objects=len(present[name]), source=source)
                for name in self._onsets.update(present, analysis.t)]


# --- 4. person on the ground --------------------------------------------------------------------

@dataclass
class PersonOnGroundParams(RuleParams):
    min_seconds: float = 5.0  # lying and nearly still for this long
    tall_ratio: float = 1.3  # h / w of a standing person
    lying_ratio: float = 1.3  # w / h of a lying one
    max_speed: float = 10.0  # pixels per second: "nearly still"

    def validate(self):
        super().validate()
        _check(self, "min_seconds", minimum=0)
        _check(self, "tall_ratio", minimum=1)
        _check(self, "lying_ratio", minimum=1)
        _check(self, "max_speed", minimum=0)


class PersonOnGround(Rule):
    """A person track seen standing, then lying (box turned wide) and nearly still.

    Needs tracks: a posture change is only known for something followed across frames.
    """

    name = "person_on_ground"
    Params = PersonOnGroundParams

    def reset(self):
        self._onsets = _Onsets(self.params.min_seconds, self.params.clear_seconds)
        self._stood: set[int] = set()

    def _evaluate(self, analysis):
        p, size = self.params, analysis.size
        tracks = _live_tracks(analysis, ("person",))
        self._stood &= {t.id for t in analysis.tracks}
        present = {}
        for track in tracks:
            box = track.box
            if box.w <= 0 or box.h <= 0:
                continue
            if box.h / box.w > p.tall_ratio:
                self._stood.add(track.id)
            elif (track.id in self._stood and box.w / box.h > p.lying_ratio
                  and track.speed <= p.max_speed):
                zone = self._zone_of(box, size)
                if zone is not None:
                    present[(zone.name, track.id)] = track
        return [self._event(analysis, key[0], _grade(track.box.w / track.box.h, p.lying_ratio),
                            box=track.box, track=track.id,
                            seconds=_num(analysis.t - self._onsets.since(key), 1),
                            ratio=_num(track.box.w / track.box.h))
                for key in self._onsets.update(present, analysis.t) for track in [present[key]]]


# --- 5. crowd movement --------------------------------------------------------------------------

@dataclass
class CrowdMovementParams(RuleParams):
    magnitude: float = 3.0  # mean flow over the zone, pixels per frame
    min_fraction: float = 0.3  # share of the zone moving (at least half ``magnitude``)
    require_dispersal: bool = True  # directions must spread out (people scattering)
    min_dispersion: float = 0.5  # 1 - length of the mean unit flow vector (0: one direction)
    flow_width: int = 160  # the flow is computed at this width

    def validate(self):
        super().validate()
        _check(self, "magnitude", minimum=0, strict=True)
        _check(self, "min_fraction", minimum=0, maximum=1)
        if not isinstance(self.require_dispersal, bool):
            raise ValueError("Paramètre « require_dispersal » : vrai ou faux est attendu.")
        _check(self, "min_dispersion", minimum=0, maximum=1)
        _check(self, "flow_width", minimum=32, integer=True)


class CrowdMovement(Rule):
    """A sudden rush or dispersal: strong, widespread (and scattered) optical flow in a zone.

    Dense Farneback flow between consecutive grey frames at low resolution, only when the motion
    gate says something moves.
    """

    name = "crowd_movement"
    Params = CrowdMovementParams

    def reset(self):
        self._onsets = _Onsets(0.0, self.params.clear_seconds)
        self._previous = None

    def _evaluate(self, analysis):
        p, (w, h) = self.params, analysis.size
        small_size = (min(p.flow_width, w), max(1, round(h * min(p.flow_width, w) / w)))
        small = cv2.resize(analysis.gray, small_size, interpolation=cv2.INTER_AREA)
        previous, self._previous = self._previous, small
        present = {}
        if analysis.moving and previous is not None and previous.shape == small.shape:
            flow = cv2.calcOpticalFlowFarneback(previous, small, None, 0.5, 3, 15, 3, 5, 1.2, 0)
            flow *= w / small_size[0]  # back to pixels of the analysed frame
            magnitude = np.hypot(flow[..., 0], flow[..., 1])
            for zone in self.areas:
                inside = self._mask(zone, small_size)
                if not inside.any():
                    continue
                mean = float(magnitude[inside].mean())
                moving = inside & (magnitude >= p.magnitude / 2)
                fraction = float(moving.sum() / inside.sum())
                if mean < p.magnitude or fraction < p.min_fraction:
                    continue
                units = flow[moving] / magnitude[moving][:, None]
                dispersion = 1.0 - float(np.hypot(*units.mean(axis=0)))
                if p.require_dispersal and dispersion < p.min_dispersion:
                    continue
                present[zone.name] = (mean, fraction, dispersion)
        return [self._event(analysis, name, _grade(mean, p.magnitude), magnitude=_num(mean),
                            fraction=_num(fraction), dispersion=_num(dispersion))
                for name in self._onsets.update(present, analysis.t)
                for mean, fraction, dispersion in [present[name]]]


# --- 6. density and 8. late gathering -----------------------------------------------------------

@dataclass
class DensityParams(RuleParams):
    max_persons: int | None = 10  # persons standing in the zone; None: not counted
    max_fraction: float | None = 0.5  # share of the zone in the foreground; None: not measured
    min_seconds: float = 10.0

    def validate(self):
        super().validate()
        if self.max_persons is None and self.max_fraction is None:
            raise ValueError("Densité : donner « max_persons » ou « max_fraction ».")
        if self.max_persons is not None:
            _check(self, "max_persons", minimum=1, integer=True)
        if self.max_fraction is not None:
            _check(self, "max_fraction", minimum=0, maximum=1, strict=True)
        _check(self, "min_seconds", minimum=0)


class Density(Rule):
    """Too many persons in a zone, or too much of it covered, for ``min_seconds``."""

    name = "density"
    Params = DensityParams

    def reset(self):
        self._onsets = _Onsets(self.params.min_seconds, self.params.clear_seconds)

    def _measure(self, analysis, zone) -> tuple[int, float]:
        size = analysis.size
        persons = sum(1 for box, _ in _objects(analysis, ("person",))
                      if self._inside(zone, box.bottom_center, size))
        fraction = 0.0
        if getattr(self.params, "max_fraction", None) is not None:
            inside = self._mask(zone, size)
            fraction = float((analysis.foreground[inside] > 0).mean()) if inside.any() else 0.0
        return persons, fraction

    def _evaluate(self, analysis):
        p, present = self.params, {}
        for zone in self.areas:
            persons, fraction = self._measure(analysis, zone)
            grades = []
            if p.max_persons is not None and persons >= p.max_persons:
                grades.append(_grade(persons, p.max_persons))
            if p.max_fraction is not None and fraction >= p.max_fraction:
                grades.append(_grade(fraction, p.max_fraction))
            if grades:
                present[zone.name] = (max(grades), persons, fraction)
        return [self._event(analysis, name, grade, persons=persons, threshold=p.max_persons,
                            fraction=_num(fraction), max_fraction=p.max_fraction)
                for name in self._onsets.update(present, analysis.t)
                for grade, persons, fraction in [present[name]]]


@dataclass
class LateGatheringParams(RuleParams):
    min_persons: int = 5
    min_seconds: float = 60.0

    def validate(self):
        super().validate()
        _check(self, "min_persons", minimum=1, integer=True)
        _check(self, "min_seconds", minimum=0)


class LateGathering(Density):
    """A group of at least ``min_persons`` in a zone at night (by default 22:00–06:00)."""

    name = "late_gathering"
    Params = LateGatheringParams
    default_schedule = Schedule(time(22, 0), time(6, 0))

    def _evaluate(self, analysis):
        p, present = self.params, {}
        for zone in self.areas:
            persons, _ = self._measure(analysis, zone)
            if persons >= p.min_persons:
                present[zone.name] = persons
        return [self._event(analysis, name, _grade(present[name], p.min_persons),
                            persons=present[name], threshold=p.min_persons)
                for name in self._onsets.update(present, analysis.t)]


# --- 7. fire and smoke --------------------------------------------------------------------------

@dataclass
class FireSmokeParams(RuleParams):
    min_seconds: float = 3.0  # the window over which flames must flicker and grow
    min_area: int = 40  # flame pixels at the end of the window
    growth: float = 1.5  # mean area over the window's last third / over its first third
    min_flicker: float = 8.0  # grey-level standard deviation over time where flames persist
    min_saturation: int = 120
    min_value: int = 150
    smoke: bool = False  # also report a growing greyish moving blob
    min_smoke_area: int = 400

    def validate(self):
        super().validate()
        _check(self, "min_seconds", minimum=0, strict=True)
        _check(self, "min_area", minimum=1, integer=True)
        _check(self, "growth", minimum=1)
        _check(self, "min_flicker", minimum=0)
        _check(self, "min_saturation", minimum=0, maximum=255, integer=True)
        _check(self, "min_value", minimum=0, maximum=255, integer=True)
        if not isinstance(self.smoke, bool):
            raise ValueError("Paramètre « smoke » : vrai ou faux est attendu.")
        _check(self, "min_smoke_area", minimum=1, integer=True)


class FireSmoke(Rule):
    """A fire starting: flame-coloured pixels that flicker and spread over ``min_seconds``.

    Flame colour: HSV hue red to yellow (0–35 or ≥ 170 of OpenCV's 0–179), saturation and
    value high. Flicker: mean temporal standard deviation of grey levels over the pixels that
    stayed flame-coloured through the window (so a spreading edge is not mistaken for flicker).
    Growth: mean area over the last third of the window / over its first third. Optional smoke:
    low-saturation, mid-grey pixels of the foreground whose area grows the same way.
    """

    name = "fire_smoke"
    Params = FireSmokeParams
    SAMPLES = 30

    def reset(self):
        self._onsets = _Onsets(0.0, self.params.clear_seconds)
        self._window: deque = deque()  # (t, gray, flame, smoke), ~SAMPLES per min_seconds

    def _evaluate(self, analysis):
        p, t, window = self.params, analysis.t, self._window
        if window and t - window[-1][0] < p.min_seconds / self.SAMPLES:
            return []  # keep the window small whatever the frame rate
        hue, sat, val = cv2.split(cv2.cvtColor(analysis.frame, cv2.COLOR_BGR2HSV))
        flame = ((hue <= 35) | (hue >= 170)) & (sat >= p.min_saturation) & (val >= p.min_value)
        smoke = ((sat <= 50) & (val >= 90) & (val <= 230) & (analysis.foreground > 0)
                 if p.smoke else None)
        window.append((t, analysis.gray.copy(), flame, smoke))
        while len(window) > 1 and window[1][0] <= t - p.min_seconds:
            window.popleft()
        present = {}
        if t - window[0][0] >= p.min_seconds and len(window) >= 3:
            for zone in self.areas:
                found = self._fire(zone) or self._smoke(zone)
                if found:
                    present[zone.name] = found
        return [self._event(analysis, name, grade, box=box, **details)
                for name in self._onsets.update(present, t)
                for grade, box, details in [present[name]]]

    def _growth(self, masks, inside) -> tuple[int, float]:
        areas = [int((m & inside).sum()) for m in masks]
        third = max(1, len(areas) // 3)
        start, end = np.mean(areas[:third]), np.mean(areas[-third:])
        return areas[-1], float(end / max(start, 1.0))

    def _fire(self, zone):
        p, window = self.params, self._window
        inside = self._mask(zone, window[-1][1].shape[::-1])
        area, growth = self._growth([f for _, _, f, _ in window], inside)
        if area < p.min_area or growth < p.growth:
            return None
        steady = np.logical_and.reduce([f for _, _, f, _ in window]) & inside
        if not steady.any():
            return None
        greys = np.stack([g[steady] for _, g, _, _ in window]).astype(np.float32)
        flicker = float(greys.std(axis=0).mean())
        if flicker < p.min_flicker:
            return None
        grade = min(_grade(growth, p.growth), _grade(flicker, p.min_flicker))
        details = {"kind": "fire", "area": area, "growth": _num(growth),
                   "flicker": _num(flicker, 1)}
        return grade, _mask_box(window[-1][2] & inside), details

    def _smoke(self, zone):
        p, window = self.params, self._window
        if not p.smoke:
            return None
        inside = self._mask(zone, window[-1][1].shape[::-1])
        area, growth = self._growth([s for _, _, _, s in window], inside)
        if area < p.min_smoke_area or growth < p.growth:
            return None
        details = {"kind": "smoke", "area": area, "growth": _num(growth)}
        return _grade(growth, p.growth) - 0.1, _mask_box(window[-1][3] & inside), details


# --- loitering and line crossing ----------------------------------------------------------------

@dataclass
class LoiteringParams(RuleParams):
    max_seconds: float = 120.0  # time inside the zone
    labels: tuple[str, ...] = ("person",)

    def validate(self):
        super().validate()
        _check(self, "max_seconds", minimum=0)
        _check_labels(self)


class Loitering(Rule):
    """A track that stays inside a zone for more than ``max_seconds``."""

    name = "loitering"
    Params = LoiteringParams

    def reset(self):
        self._onsets = _Onsets(self.params.max_seconds, self.params.clear_seconds)

    def _evaluate(self, analysis):
        p, size, present = self.params, analysis.size, {}
        for track in _live_tracks(analysis, p.labels):
            for zone in self.areas:
                if self._inside(zone, track.box.bottom_center, size):
                    present[(zone.name, track.id)] = track
        return [self._event(analysis, key[0], _grade(dwell, p.max_seconds or 1.0),
                            box=present[key].box, track=key[1], seconds=_num(dwell, 1),
                            threshold=p.max_seconds)
                for key in self._onsets.update(present, analysis.t)
                for dwell in [analysis.t - self._onsets.since(key)]]


def _cross(a, b, point) -> float:
    return (b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0])


class LineCrossing(Rule):
    """Counts tracks crossing a line zone: statistics, never alerts.

    Side "a" is on the left of someone walking along the line from its first point to its last,
    as seen on the image (above a line drawn left to right); "a_to_b" crosses from there.
    """

    name = "line_crossing"
    zone_kind = "line"
    needs_zone = True

    def reset(self):
        self._last: dict[int, tuple[float, float]] = {}

    def _evaluate(self, analysis):
        size, events, now = analysis.size, [], {}
        for track in _live_tracks(analysis):
            point = now[track.id] = track.box.bottom_center
            previous = self._last.get(track.id)
            if previous is None:
                continue
            for line in self.zones:
                ends = self._polygon(line, size)
                for a, b in zip(ends[:-1], ends[1:]):
                    # A point exactly on the line counts as side b.
                    was_b, is_b = _cross(a, b, previous) >= 0, _cross(a, b, point) >= 0
                    if was_b == is_b or _cross(previous, point, a) * _cross(previous, point, b) > 0:
                        continue
                    direction = "a_to_b" if is_b else "b_to_a"
                    events.append(self._event(analysis, line.name, 0.9, box=track.box,
                                              statistic=True, direction=direction, count=1,
                                              label=track.label))
                    break
        self._last = now
        return events


# --- registry -----------------------------------------------------------------------------------

RULES: dict[str, type[Rule]] = {rule.name: rule for rule in (
    AbandonedObject, WrongDirection, Intrusion, PersonOnGround, CrowdMovement, Density,
    FireSmoke, LateGathering, Loitering, LineCrossing)}


def build_rule(name: str, params: dict | None, zones=(), schedule: Schedule | None = None) -> Rule:
    """The rule ``name`` for one camera, from its parameters as stored (a plain dict)."""
    rule = RULES.get(name)
    if rule is None:
        raise ValueError(f"Règle inconnue : « {name} ».")
    params = dict(params or {})
    known = {f.name for f in fields(rule.Params)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"Règle « {name} » : paramètre(s) inconnu(s) : {', '.join(unknown)}.")
    return rule(rule.Params(**params), list(zones), schedule)
