"""The shapes that travel through the pipeline.

Coordinates: zones, lines and masks are given in *normalised* image coordinates (x, y in 0..1,
origin top-left), so they hold whatever resolution a camera is analysed at; boxes and tracks are
in pixels of the analysed frame.
"""

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

NormPoint = tuple[float, float]


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def bottom_center(self) -> tuple[float, float]:
        """Where a person stands: what zones and lines are tested against."""
        return self.x + self.w / 2, self.y + self.h

    def iou(self, other: "Box") -> float:
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        x2 = min(self.x + self.w, other.x + other.w)
        y2 = min(self.y + self.h, other.y + other.h)
        inter = max(0, x2 - x1) * max(0, y2 - y1)
        union = self.area + other.area - inter
        return inter / union if union else 0.0


@dataclass
class Detection:
    box: Box
    score: float
    label: str = "person"


@dataclass
class Track:
    """An object followed across frames; ``history`` holds (t, cx, cy) of its box centre."""

    id: int
    box: Box
    label: str
    first_seen: float
    last_seen: float
    history: list[tuple[float, float, float]] = field(default_factory=list)
    hits: int = 1
    missed: int = 0

    @property
    def dwell(self) -> float:
        return self.last_seen - self.first_seen

    def velocity(self, span: float = 1.0) -> tuple[float, float]:
        """Pixels per second over the last ``span`` seconds (0, 0 if not enough history)."""
        if len(self.history) < 2:
            return 0.0, 0.0
        t1, x1, y1 = self.history[-1]
        older = [h for h in self.history if h[0] >= t1 - span] or self.history
        t0, x0, y0 = older[0]
        if t1 <= t0:
            return 0.0, 0.0
        return (x1 - x0) / (t1 - t0), (y1 - y0) / (t1 - t0)

    @property
    def speed(self) -> float:
        vx, vy = self.velocity()
        return (vx * vx + vy * vy) ** 0.5


@dataclass(frozen=True)
class Zone:
    """A named analysis area: ``kind`` is "zone" (polygon), "line" (polyline) or "mask"."""

    name: str
    points: tuple[NormPoint, ...]
    kind: str = "zone"
    # For wrong-direction zones: the allowed direction of travel, a normalised vector.
    direction: tuple[float, float] | None = None

    def pixels(self, width: int, height: int) -> np.ndarray:
        return np.array([[round(x * width), round(y * height)] for x, y in self.points],
                        dtype=np.int32)


@dataclass
class FrameAnalysis:
    """What the pipeline knows about one analysed frame; rules read it, never change it."""

    t: float  # seconds since the start of the stream (or any monotonic clock)
    wall_time: datetime  # aware local time of the frame, for schedules
    frame: np.ndarray  # BGR, at the analysis size
    gray: np.ndarray  # the frame in grey levels, same size
    foreground: np.ndarray  # uint8 mask 0/255 of what differs from the background
    motion_fraction: float  # share of the frame in the foreground
    moving: bool  # whether the motion gate let the heavier stages run
    detections: list[Detection] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    # False while the background is still being learned: what moves is not known yet.
    settled: bool = True
    # For privacy only: the motion model's unfiltered mask (at its own, smaller size) and what
    # the detector found where nothing moved (not followed, but blurred all the same).
    changed: np.ndarray | None = None
    unconfirmed: list[Box] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.frame.shape[:2]
        return width, height


@dataclass
class Event:
    """Something a rule saw: becomes an alert (or, for flows, a statistic)."""

    rule: str
    zone: str
    confidence: float
    t: float
    wall_time: datetime
    box: Box | None = None
    details: dict = field(default_factory=dict)
    statistic: bool = False  # line crossings: counted, never an alert

    @property
    def key(self) -> str:
        """What deduplicates the event while the situation lasts: the rule and the zone."""
        return f"{self.rule}:{self.zone}"
