"""Abandoned objects: what is left still in the scene, on a background model of the rule's own.

The shared motion gate must learn fast (lighting, shadows, parked cars) so that the other rules
see people; an object left must instead stay visible for minutes. So this rule keeps its own
slow background, learned over time (a time constant in seconds, whatever the frame rate) from
the pixels where nothing moves, and tells an object left from a "ghost" (a place someone
stood when the model started, or left after a long wait, which the slow model still remembers)
by its outline: an object brings new edges into the image, a ghost's edges are in the model.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from ..types import Box
from .base import Rule, RuleParams, _blobs, _check, _grade, _num, _objects

WORK_WIDTH = 160  # the rule's background is kept at this width


# --- 1. abandoned object ------------------------------------------------------------------------

@dataclass
class AbandonedObjectParams(RuleParams):
    min_seconds: float = 30.0  # unattended and still for this long
    min_area: int = 80  # pixels of the blob
    max_area_fraction: float = 0.1  # larger blobs are lighting changes or crowds
    min_iou: float = 0.7  # box overlap with where it was first seen: "not moving"
    min_contrast: int = 25  # grey levels between the object and the background
    rate: float = 2.0  # looked at this many times a second at most

    def validate(self):
        super().validate()
        _check(self, "min_seconds", minimum=0)
        _check(self, "rate", minimum=0, strict=True)
        _check(self, "min_area", minimum=1, integer=True)
        _check(self, "max_area_fraction", minimum=0, maximum=1, strict=True)
        _check(self, "min_iou", minimum=0, maximum=1, strict=True)
        _check(self, "min_contrast", minimum=1, maximum=255, integer=True)


@dataclass
class _Blob:
    anchor: Box  # the box where it came to rest
    box: Box
    since: float  # still and unattended since
    last_seen: float
    fired: bool = False


class StillBackground:
    """A background learned slowly, per second, from the pixels where nothing moves.

    ``time_constant`` seconds: a change kept that long is two-thirds learned. The first frame
    starts the model; what stood in it is told from a real object by ``is_ghost``.
    """

    def __init__(self, time_constant: float):
        self.time_constant = time_constant
        self.image: np.ndarray | None = None
        self._t: float | None = None

    def update(self, gray: np.ndarray, moving: np.ndarray | None, t: float) -> None:
        current = gray.astype(np.float32)
        if self.image is None or self.image.shape != current.shape:
            self.image, self._t = current, t
            return
        rate = min(1.0, max(0.0, t - self._t) / self.time_constant)
        self._t = t
        if rate:
            still = None if moving is None else (moving == 0).astype(np.uint8)
            cv2.accumulateWeighted(current, self.image, rate, mask=still)

    def difference(self, gray: np.ndarray, threshold: int) -> np.ndarray:
        diff = cv2.absdiff(gray.astype(np.float32), self.image)
        return ((diff > threshold) * 255).astype(np.uint8)

    def is_ghost(self, gray: np.ndarray, mask: np.ndarray) -> bool:
        """Whether the blob ``mask`` is a memory of the model rather than a thing in the image:
        along its outline, the model has more edges than the image."""
        kernel = np.ones((3, 3), np.uint8)
        ring = (cv2.dilate(mask, kernel, iterations=2) > 0) & ~(cv2.erode(mask, kernel) > 0)
        if not ring.any():
            return False
        current, model = _edges(gray.astype(np.float32)), _edges(self.image)
        return float(current[ring].mean()) < float(model[ring].mean())

    def forget(self, gray: np.ndarray, mask: np.ndarray) -> None:
        """Take the image as the background under ``mask`` (a ghost is learned at once)."""
        inside = mask > 0
        self.image[inside] = gray[inside]


def _edges(image: np.ndarray) -> np.ndarray:
    return np.abs(cv2.Sobel(image, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(image, cv2.CV_32F, 0, 1))


class AbandonedObject(Rule):
    """A new blob that stays put, with no person on it, for ``min_seconds``.

    Blobs differ from the rule's own slow background by ``min_contrast`` grey levels; they are
    followed from frame to frame, and one that has not moved (``min_iou``) and had nobody on it
    for ``min_seconds`` fires, unless it is a ghost (then learned into the background). An
    object left is still for many seconds: the rule looks at ``rate`` frames a second at most
    (on the campus clip it cost more than decoding the frame when it looked at every one).
    """

    name = "abandoned_object"
    Params = AbandonedObjectParams

    def reset(self):
        self._blobs: list[_Blob] = []
        # Learned slowly enough that an object stays different for several times min_seconds.
        self._background = StillBackground(max(3 * self.params.min_seconds, 10.0))
        self._looked: float | None = None

    def _evaluate(self, analysis):
        p, t, (w, h) = self.params, analysis.t, analysis.size
        if self._looked is not None and self._looked <= t < self._looked + 1 / p.rate - 1e-6:
            return []
        self._looked = t
        scale = min(1.0, WORK_WIDTH / w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        gray = cv2.resize(analysis.gray, size, interpolation=cv2.INTER_AREA)
        moving = cv2.resize(analysis.foreground, size, interpolation=cv2.INTER_NEAREST)
        background = self._background
        if background.image is None or background.image.shape != gray.shape:
            background.update(gray, None, t)
            self._blobs = []
            return []
        mask = background.difference(gray, p.min_contrast)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        background.update(gray, moving, t)
        area = scale * scale
        seen = [Box(round(b.x / scale), round(b.y / scale), round(b.w / scale),
                    round(b.h / scale))
                for b in _blobs(mask, max(1, round(p.min_area * area)),
                                p.max_area_fraction * size[0] * size[1])]
        self._follow(seen, t)
        people = [box for box, _ in _objects(analysis, ("person",))]
        events = []
        for blob in self._blobs:
            if blob.last_seen != t:
                continue
            if any(_overlap(blob.box, person) for person in people):
                blob.since = t  # attended: the clock starts when the person leaves it
                continue
            zone = self._zone_of(blob.box, (w, h))
            still = t - blob.since
            if blob.fired or zone is None or still < p.min_seconds:
                continue
            blob.fired = True
            small = np.zeros_like(mask)
            x, y = round(blob.box.x * scale), round(blob.box.y * scale)
            bw, bh = max(1, round(blob.box.w * scale)), max(1, round(blob.box.h * scale))
            small[y:y + bh, x:x + bw] = mask[y:y + bh, x:x + bw]
            if background.is_ghost(gray, small):
                background.forget(gray, small)
                continue
            grade = _grade(still, p.min_seconds) + 0.2 * blob.box.iou(blob.anchor)
            events.append(self._event(analysis, zone.name, grade, box=blob.box,
                                      seconds=_num(still, 1), area=blob.box.area))
        return events

    def _follow(self, seen: list[Box], t: float) -> None:
        p = self.params
        overlaps = _ious(seen, [b.box for b in self._blobs])
        # Best pairs first (ties: the later pair first, as a reversed sort of (iou, i, j)).
        candidates = np.argwhere(overlaps >= 0.3)
        order = sorted(((overlaps[i, j], i, j) for i, j in candidates), reverse=True)
        taken_seen, taken_blob = set(), set()
        for _, i, j in order:
            i, j = int(i), int(j)
            if i in taken_seen or j in taken_blob:
                continue
            taken_seen.add(i)
            taken_blob.add(j)
            blob = self._blobs[j]
            blob.box, blob.last_seen = seen[i], t
            if seen[i].iou(blob.anchor) < p.min_iou:  # it moved: it comes to rest again
                blob.anchor, blob.since, blob.fired = seen[i], t, False
        self._blobs += [_Blob(box, box, t, t) for i, box in enumerate(seen) if i not in taken_seen]
        self._blobs = [b for b in self._blobs if t - b.last_seen <= p.clear_seconds]


def _overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share some area (``iou > 0``, without computing it)."""
    return (a.w > 0 and a.h > 0 and b.w > 0 and b.h > 0 and a.x < b.x + b.w
            and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h)


def _ious(a: list[Box], b: list[Box]) -> np.ndarray:
    """The IoU of every box of ``a`` with every box of ``b``, as ``Box.iou`` gives it."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    first = np.array([(x.x, x.y, x.w, x.h) for x in a], float)[:, None, :]
    second = np.array([(x.x, x.y, x.w, x.h) for x in b], float)[None, :, :]
    x1 = np.maximum(first[..., 0], second[..., 0])
    y1 = np.maximum(first[..., 1], second[..., 1])
    x2 = np.minimum(first[..., 0] + first[..., 2], second[..., 0] + second[..., 2])
    y2 = np.minimum(first[..., 1] + first[..., 3], second[..., 1] + second[..., 3])
    inter = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
    areas = lambda boxes: np.maximum(0, boxes[..., 2]) * np.maximum(0, boxes[..., 3])  # noqa: E731
    union = areas(first) + areas(second) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
