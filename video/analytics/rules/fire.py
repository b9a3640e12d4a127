"""Fire starting and smoke."""

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from .base import Rule, RuleParams, _check, _grade, _mask_box, _num, _Onsets

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
