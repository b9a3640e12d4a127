"""Rules on crowds: sudden collective movement, density, late gatherings."""

from dataclasses import dataclass
from datetime import time

import cv2
import numpy as np

from .base import Rule, RuleParams, Schedule, _check, _grade, _num, _objects, _Onsets

# --- 5. crowd movement --------------------------------------------------------------------------

@dataclass
class CrowdMovementParams(RuleParams):
    speed: float = 0.08  # mean flow over the zone, in frame widths per second
    surge: float = 2.5  # and this many times the zone's recent normal
    min_fraction: float = 0.3  # share of the zone moving (at least half ``speed``)
    require_dispersal: bool = True  # directions must spread out (people scattering)
    min_dispersion: float = 0.5  # 1 - length of the mean unit flow vector (0: one direction)
    normal_seconds: float = 60.0  # how far back the scene's normal reaches
    flow_width: int = 160  # the flow is computed at this width
    flow_rate: float = 5.0  # and at most this many times a second

    def validate(self):
        super().validate()
        _check(self, "speed", minimum=0, strict=True)
        _check(self, "surge", minimum=1)
        _check(self, "min_fraction", minimum=0, maximum=1)
        if not isinstance(self.require_dispersal, bool):
            raise ValueError("Paramètre « require_dispersal » : vrai ou faux est attendu.")
        _check(self, "min_dispersion", minimum=0, maximum=1)
        _check(self, "normal_seconds", minimum=1)
        _check(self, "flow_width", minimum=32, integer=True)
        _check(self, "flow_rate", minimum=0, strict=True)


class CrowdMovement(Rule):
    """A sudden rush or dispersal: strong, widespread (and scattered) optical flow in a zone,
    well above what is usual in that zone.

    Dense optical flow (DIS, OpenCV's fastest preset) at low resolution, over the zones' extent
    only, only when the motion gate says something moves, at most ``flow_rate`` times a second.
    Speeds are in frame widths per second, so that the threshold holds whatever the camera's
    resolution and frame rate; the zone's normal is the mean speed over the last
    ``normal_seconds`` (an exponential average, not fed while the situation lasts), so that a
    busy square's ordinary walking is not a crowd movement.
    """

    name = "crowd_movement"
    Params = CrowdMovementParams

    def reset(self):
        self._onsets = _Onsets(0.0, self.params.clear_seconds)
        self._previous = None  # (t, small grey frame)
        self._normal: dict[str, float] = {}

    def _flow(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        if getattr(self, "_dis", None) is None:
            # A twentieth of the cost of Farneback's flow, for mean speeds over a zone within a
            # fifth of its (measured on the campus clip).
            self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        return self._dis.calc(before, after, None)

    def _extent(self, size: tuple[int, int]) -> tuple[slice, slice]:
        """Rows and columns of the small frame that the zones cover, with a margin."""
        key = ("extent", size)
        if key not in self._shapes:
            covered = np.zeros((size[1], size[0]), bool)
            for zone in self.areas:
                covered |= self._mask(zone, size)
            ys, xs = np.nonzero(covered)
            if not len(xs):
                self._shapes[key] = (slice(0, 0), slice(0, 0))
            else:
                margin = 8
                self._shapes[key] = (slice(max(0, ys.min() - margin), ys.max() + 1 + margin),
                                     slice(max(0, xs.min() - margin), xs.max() + 1 + margin))
        return self._shapes[key]

    def _evaluate(self, analysis):
        p, (w, h), t = self.params, analysis.size, analysis.t
        if self._previous is not None and t - self._previous[0] < 1 / p.flow_rate - 1e-6:
            return []
        small_size = (min(p.flow_width, w), max(1, round(h * min(p.flow_width, w) / w)))
        rows, columns = self._extent(small_size)
        small = np.ascontiguousarray(
            cv2.resize(analysis.gray, small_size, interpolation=cv2.INTER_AREA)[rows, columns])
        previous, self._previous = self._previous, (t, small)
        present = {}
        if previous is None or previous[1].shape != small.shape or t <= previous[0]:
            return []
        if analysis.moving and small.size:
            flow = self._flow(previous[1], small)
            flow *= 1.0 / (small_size[0] * (t - previous[0]))  # frame widths per second
            magnitude = np.hypot(flow[..., 0], flow[..., 1])
        else:
            flow = magnitude = None
        for zone in self.areas:
            inside = self._mask(zone, small_size)[rows, columns]
            if not inside.any():
                continue
            mean = float(magnitude[inside].mean()) if magnitude is not None else 0.0
            normal = self._normal.get(zone.name)
            found = self._measure(zone, inside, flow, magnitude, mean, normal)
            if found:
                present[zone.name] = found
            else:
                weight = min(1.0, (t - previous[0]) / p.normal_seconds)
                self._normal[zone.name] = (mean if normal is None
                                           else normal + weight * (mean - normal))
        return [self._event(analysis, name, _grade(mean, p.speed), speed=_num(mean, 3),
                            normal=_num(normal, 3), fraction=_num(fraction),
                            dispersion=_num(dispersion))
                for name in self._onsets.update(present, t)
                for mean, normal, fraction, dispersion in [present[name]]]

    def _measure(self, zone, inside, flow, magnitude, mean, normal):
        p = self.params
        if magnitude is None or normal is None:
            return None  # the zone's normal is not known yet
        if mean < p.speed or mean < p.surge * normal:
            return None
        moving = inside & (magnitude >= p.speed / 2)
        fraction = float(moving.sum() / inside.sum())
        if fraction < p.min_fraction:
            return None
        units = flow[moving] / magnitude[moving][:, None]
        dispersion = 1.0 - float(np.hypot(*units.mean(axis=0)))
        if p.require_dispersal and dispersion < p.min_dispersion:
            return None
        return mean, normal, fraction, dispersion


# --- 6. density and 8. late gathering -----------------------------------------------------------

@dataclass
class DensityParams(RuleParams):
    max_persons: int | None = 10  # persons standing in the zone; None: not counted
    max_fraction: float | None = 0.5  # share of the zone in the foreground; None: not measured
    min_seconds: float = 10.0
    # Calibration of the camera: the share of the frame one person covers in the zone. With
    # it, people are also counted from the moving area (where crowds hide them from the
    # detector): persons = max(detected, moving area / person_area).
    person_area: float | None = None

    def validate(self):
        super().validate()
        if self.max_persons is None and self.max_fraction is None:
            raise ValueError("Densité : donner « max_persons » ou « max_fraction ».")
        if self.max_persons is not None:
            _check(self, "max_persons", minimum=1, integer=True)
        if self.max_fraction is not None:
            _check(self, "max_fraction", minimum=0, maximum=1, strict=True)
        _check(self, "min_seconds", minimum=0)
        if self.person_area is not None:
            _check(self, "person_area", minimum=0, maximum=1, strict=True)


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
        person_area = getattr(self.params, "person_area", None)
        if getattr(self.params, "max_fraction", None) is not None or person_area:
            inside = self._mask(zone, size)
            moving = int((analysis.foreground[inside] > 0).sum()) if inside.any() else 0
            fraction = moving / int(inside.sum()) if inside.any() else 0.0
            if person_area:
                persons = max(persons, round(moving / (person_area * size[0] * size[1])))
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
