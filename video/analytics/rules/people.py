"""Rules on tracked people: wrong direction, intrusion, person on the ground, loitering (line
crossings are counted in ``lines``)."""

import math
from dataclasses import dataclass

from .base import (
    Rule,
    RuleParams,
    _blobs,
    _check,
    _check_labels,
    _grade,
    _live_tracks,
    _num,
    _objects,
    _Onsets,
)

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
