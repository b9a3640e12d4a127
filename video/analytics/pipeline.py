"""One camera's analysis: privacy masks, motion gate, detection, tracking, rules.

Masks come first, so a masked area is never analysed. The motion gate then decides: only when
something moves do the detector (on the moving regions alone) and the tracker run; an idle frame
only ages the tracks. With ``revisit``, the detector skips what the people it recently found
alone explain: they are followed on their moving pixels and confirmed once in ``revisit``
seconds, while anything new that moves, and anyone beside someone else, is searched at once.
Every rule then reads the frame's analysis and may return events.
"""

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Protocol
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from .detectors import Detector, foreground_regions
from .motion import MotionGate
from .privacy import mask_image
from .tracking import Tracker
from .types import Box, Event, FrameAnalysis, Zone

STAGES = ("privacy", "motion", "detection", "tracking", "rules")
PARIS = ZoneInfo("Europe/Paris")


class Rule(Protocol):
    def evaluate(self, analysis: FrameAnalysis) -> list[Event]: ...


@dataclass
class PipelineStats:
    """Counters for monitoring and benchmarks: frames seen, and seconds spent in each stage
    ("privacy" counts the masks and the conversion to grey levels)."""

    frames: int = 0
    frames_moving: int = 0
    detections_run: int = 0
    events: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


class Pipeline:
    """Analyse the frames of one camera.

    ``zones`` are handed to whoever needs them (rules are built with their own zones);
    ``detect_every`` runs the detector on one moving frame in N (the tracker keeps its tracks in
    between); ``min_region_area`` is the smallest moving blob, in pixels, worth a detection.

    ``revisit`` (seconds, 0: off) trusts a track for that long after the detector last found
    it, as long as its box touches no other track's: a moving region that such tracks explain
    (all but ``unexplained_share`` of its moving pixels lie in their boxes) is not searched, and
    those tracks are carried, not counted missed. Each moving frame centres the box of every
    track the detector found less than ``revisit`` seconds ago (alone or not) on the moving
    pixels under it; a track with too little motion under it (``follow_share`` of its box) is
    searched again at the next detection. The detector's cost then follows the people arriving
    rather than the people in view.
    """

    unexplained_share = 0.2
    follow_share = 0.1

    def __init__(self, *, detector: Detector | None, rules: Iterable[Rule] = (),
                 masks: Iterable[Zone] = (), zones: Iterable[Zone] = (),
                 motion: MotionGate | None = None, tracker: Tracker | None = None,
                 detect_every: int = 1, min_region_area: int = 64,
                 revisit: float = 0.0, tz=PARIS):
        if detect_every < 1:
            raise ValueError("La détection doit avoir lieu au moins une image sur N (N ≥ 1).")
        if revisit < 0:
            raise ValueError("Le délai de confirmation des personnes suivies est positif ou nul.")
        self.detector = detector
        self.rules = list(rules)
        self.masks = list(masks)
        self.zones = list(zones)
        self.motion = motion
        self.tracker = tracker
        self.detect_every = detect_every
        self.min_region_area = min_region_area
        self.revisit = revisit
        self.tz = tz
        self.stats = PipelineStats()
        self._keep: np.ndarray | None = None  # 255 where analysis may look, at the frame size
        self._wall_origin: datetime | None = None
        self._moving_frames = 0
        self._moved: set[int] = set()  # tracks seen moving at least once
        self._doubtful: set[int] = set()  # trusted tracks to search again at the next detection

    def process(self, t: float, frame: np.ndarray,
                wall_time: datetime | None = None) -> tuple[FrameAnalysis, list[Event]]:
        """Analyse one frame taken at ``t`` seconds; ``wall_time`` defaults to the local time
        the stream started at plus ``t`` (so a file played fast still has consistent times)."""
        stats = self.stats
        clock = time.perf_counter
        started = clock()
        keep = self._keep_mask(frame) if self.masks else None
        if keep is not None:
            frame = cv2.bitwise_and(frame, frame, mask=keep)
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        after_privacy = clock()
        stats.seconds["privacy"] += after_privacy - started

        if self.motion is not None:
            foreground, fraction, moving = self.motion.apply(gray)
            if keep is not None and fraction:
                foreground = cv2.bitwise_and(foreground, keep)
        else:
            foreground, fraction, moving = np.zeros(gray.shape, np.uint8), 0.0, True
        after_motion = clock()
        stats.seconds["motion"] += after_motion - after_privacy

        detections, unconfirmed = [], []
        detected = False
        carried = frozenset()  # tracks trusted where they are predicted, not searched
        if moving:
            stats.frames_moving += 1
            self._moving_frames += 1
            if self.detector is not None and (self._moving_frames - 1) % self.detect_every == 0:
                regions = None
                if self.motion is not None:
                    regions = foreground_regions(foreground, self.min_region_area)
                    if self.revisit and self.tracker is not None:
                        regions, carried = self._unexplained(t, regions, foreground)
                    if self.tracker is not None and getattr(self.detector, "search_tracks",
                                                            False):
                        # People followed who stopped moving are looked for where they stand.
                        height, width = gray.shape
                        regions += [box for box in (_inside(track.box, width, height)
                                                    for track in self.tracker.tracks
                                                    if track.id not in carried)
                                    if box is not None
                                    and not any(_touch(box, r) for r in regions)]
                detections = self.detector.detect(frame, regions)
                if self.motion is not None and self.tracker is not None:
                    found, detections = detections, self._still_only_if_known(detections,
                                                                               foreground)
                    unconfirmed = [d.box for d in found if d not in detections]
                detected = True
                stats.detections_run += regions is None or bool(regions)
        after_detection = clock()
        stats.seconds["detection"] += after_detection - after_motion

        tracks = []
        if self.tracker is not None:
            if detected or (not moving and self.tracker.tracks):
                self.tracker.update(t, detections, unsearched=carried)
                self._doubtful.clear()
            elif moving:
                self.tracker.predict(t)
            if moving and self.revisit:
                self._follow_motion(t, foreground)
            if moving:
                self._moved.intersection_update(track.id for track in self.tracker.tracks)
                self._moved.update(track.id for track in self.tracker.tracks
                                   if track.missed == 0 and _moving(foreground, track.box))
            # Copies: the analysis records this frame, the tracker's own tracks move on.
            tracks = [replace(track, history=list(track.history))
                      for track in self.tracker.tracks]
        after_tracking = clock()
        stats.seconds["tracking"] += after_tracking - after_detection

        analysis = FrameAnalysis(
            t=t, wall_time=wall_time or self._wall_time(t), frame=frame, gray=gray,
            foreground=foreground, motion_fraction=fraction, moving=moving,
            detections=detections, tracks=tracks,
            settled=self.motion is None or self.motion.frames_modelled >= self.motion.warm_up,
            changed=self.motion.unfiltered if self.motion is not None and fraction else None,
            unconfirmed=unconfirmed)
        events = []
        for rule in self.rules:
            events.extend(rule.evaluate(analysis))
        stats.seconds["rules"] += clock() - after_tracking
        stats.frames += 1
        stats.events += len(events)
        return analysis, events

    def run(self, source: Iterable[tuple[float, np.ndarray]],
            limit: int | None = None) -> Iterator[tuple[FrameAnalysis, list[Event]]]:
        """Process the ``(t, frame)`` of a source (a ``FrameSource``), ``limit`` frames at most."""
        for t, frame in islice(source, limit):
            yield self.process(t, frame)

    def _unexplained(self, t: float, regions: list[Box],
                     foreground: np.ndarray) -> tuple[list[Box], frozenset[int]]:
        """The moving regions the detector must search, and the trusted tracks it need not
        look for (found less than ``revisit`` seconds ago, alone, and clear of every region
        searched)."""
        trusted = {}
        for track in self.tracker.tracks:
            if (track.missed == 0 and t - track.last_seen < self.revisit
                    and track.id not in self._doubtful):
                # A little larger than the person: the moving blob has motion blur and shadow.
                box = self.tracker.predicted(track, t)
                pad_x, pad_y = box.w // 4, box.h // 8
                trusted[track.id] = Box(box.x - pad_x, box.y - pad_y, box.w + 2 * pad_x,
                                        box.h + 2 * pad_y)
        # Only people alone are trusted: beside someone else (walking together, passing each
        # other, or someone the detector lost there), a box can pass from one to the other or
        # grow over both, so their place is searched at every detection.
        trusted = {key: box for key, box in trusted.items()
                   if not any(_touch(box, track.box) for track in self.tracker.tracks
                              if track.id != key)}
        if not trusted:
            return regions, frozenset()
        outside = np.full(foreground.shape, 255, np.uint8)  # 0 under the trusted boxes
        for box in trusted.values():
            cv2.rectangle(outside, (box.x, box.y), (box.x + box.w - 1, box.y + box.h - 1), 0, -1)
        searched = []
        for region in regions:
            if any(_touch(box, region) for box in trusted.values()):
                window = (slice(region.y, region.y + region.h),
                          slice(region.x, region.x + region.w))
                moving = cv2.countNonZero(foreground[window])
                new = cv2.countNonZero(cv2.bitwise_and(foreground[window], outside[window]))
                if new <= max(self.min_region_area, self.unexplained_share * moving):
                    continue  # nobody new here
            searched.append(region)
        carried = frozenset(track_id for track_id, box in trusted.items()
                            if not any(_touch(box, region) for region in searched))
        return searched, carried

    def _follow_motion(self, t: float, foreground: np.ndarray) -> None:
        """Keep each track found less than ``revisit`` ago on the moving pixels under it
        between two detections: its box is centred on their centroid (one mean-shift step a
        frame), so a walker who turns or slows is not lost to a constant-velocity guess. People
        in groups are followed too (following only those found alone lost 5 % of the people
        YOLOX finds on the campus clip). A track with too little motion under it is searched
        again at the next detection."""
        height, width = foreground.shape
        for track in self.tracker.tracks:
            if track.missed or track.last_seen == t or t - track.last_seen >= self.revisit:
                continue
            box = _inside(track.box, width, height)
            moments = (cv2.moments(foreground[box.y:box.y + box.h, box.x:box.x + box.w], True)
                       if box is not None else None)
            if moments is None or moments["m00"] < self.follow_share * track.box.area:
                self._doubtful.add(track.id)
                continue
            x, y = track.box.center
            dx = box.x + moments["m10"] / moments["m00"] - x
            dy = box.y + moments["m01"] / moments["m00"] - y
            self.tracker.follow(track, t, replace(track.box, x=round(track.box.x + dx),
                                                  y=round(track.box.y + dy)))

    def _still_only_if_known(self, detections, foreground: np.ndarray):
        """Drop what a detector finds where nothing has moved, unless it continues a track: a
        person who stopped stays followed, a sign or a statue never starts a track."""
        if self.motion.frames_modelled < self.motion.warm_up:
            return detections
        kept = []
        for detection in detections:
            box = detection.box
            if (_moving(foreground, box)
                    or any(track.box.iou(box) >= 0.3 for track in self.tracker.tracks
                           if track.id in self._moved)):
                kept.append(detection)
        return kept

    def _keep_mask(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        if self._keep is None or self._keep.shape != (height, width):
            self._keep = mask_image(self.masks, width, height)
        return self._keep

    def _wall_time(self, t: float) -> datetime:
        # Added in UTC: local-time arithmetic would be an hour off across a clock change.
        if self._wall_origin is None:
            self._wall_origin = datetime.now(UTC) - timedelta(seconds=t)
        return (self._wall_origin + timedelta(seconds=t)).astimezone(self.tz)


def _moving(foreground: np.ndarray, box) -> bool:
    """Whether something moves under the box (2 % of its pixels in the foreground)."""
    inside = foreground[max(0, box.y):box.y + box.h, max(0, box.x):box.x + box.w]
    return bool(inside.size) and cv2.countNonZero(inside) >= 0.02 * inside.size


def _inside(box: Box, width: int, height: int) -> Box | None:
    """The part of ``box`` inside the frame, if any."""
    x1, y1 = max(0, box.x), max(0, box.y)
    x2, y2 = min(width, box.x + box.w), min(height, box.y + box.h)
    return Box(x1, y1, x2 - x1, y2 - y1) if x2 > x1 and y2 > y1 else None


def _touch(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h
