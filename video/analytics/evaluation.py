"""Measure the analysis against hand labels: people as points, line crossings as counts.

Labels are a CSV with the columns ``frame,x,y``: one row per person, the centre of the person in
pixels of the original frame, frames numbered as decoded from 0. A frame listed with no person
has one row with empty ``x`` and ``y``. A labelled person is found when a box (in the same
pixels) contains the point; each box finds at most one person, each person counts once.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .types import Box


def load_points(path) -> dict[int, list[tuple[float, float]]]:
    """Labelled people per frame number, from a ``frame,x,y`` CSV."""
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    with Path(path).open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"frame", "x", "y"} <= set(reader.fieldnames):
            raise ValueError(f"{path} : colonnes frame,x,y attendues.")
        for number, row in enumerate(reader, 2):
            try:
                frame = int(row["frame"])
                points[frame]  # a frame with nobody in it is labelled too
                if row["x"] not in ("", None):
                    points[frame].append((float(row["x"]), float(row["y"])))
            except ValueError as error:
                raise ValueError(f"{path}, ligne {number} : {error}") from error
    return dict(points)


@dataclass
class Matching:
    labelled: int = 0  # people labelled
    found: int = 0  # labelled people inside a box
    boxes: int = 0  # boxes given
    true_boxes: int = 0  # boxes that contain a labelled person

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.true_boxes / self.boxes if self.boxes else 1.0

    def add(self, other: "Matching") -> None:
        self.labelled += other.labelled
        self.found += other.found
        self.boxes += other.boxes
        self.true_boxes += other.true_boxes


def match_points(boxes: list[Box], points: list[tuple[float, float]], *,
                 scale: tuple[float, float] = (1.0, 1.0)) -> Matching:
    """Match boxes to labelled points, one to one, nearest box centre first.

    ``scale`` converts the points' pixels to the boxes' (analysed size / original size).
    """
    points = [(x * scale[0], y * scale[1]) for x, y in points]
    pairs = []
    for bi, box in enumerate(boxes):
        cx, cy = box.center
        for pi, (x, y) in enumerate(points):
            if box.x <= x <= box.x + box.w and box.y <= y <= box.y + box.h:
                pairs.append(((cx - x) ** 2 + (cy - y) ** 2, bi, pi))
    used_boxes, used_points = _pair_off(pairs)
    # A box over two people close together finds one of them; a second box on the same
    # person is a duplicate, not a false detection.
    duplicates = sum(1 for bi, box in enumerate(boxes) if bi not in used_boxes
                     and any(p[1] == bi for p in pairs))
    return Matching(labelled=len(points), found=len(used_points), boxes=len(boxes) - duplicates,
                    true_boxes=len(used_boxes))


def counting_error(counted: int, true: int) -> float:
    """Relative error of a count (0.1: 10 % off); a count of nothing is exact only if nothing."""
    if true == 0:
        return 0.0 if counted == 0 else float("inf")
    return (counted - true) / true


def matched_crossings(counted: list[int], true: list[int], tolerance: int) -> int:
    """How many of the crossings counted (their frame numbers) each match a different true
    crossing at most ``tolerance`` frames away, the closest pairs first. A count can be right
    for the wrong reasons (a crossing missed, another counted twice); this says how many
    counted crossings are real ones."""
    pairs = [(abs(c - t), i, j) for i, c in enumerate(counted)
             for j, t in enumerate(true) if abs(c - t) <= tolerance]
    return len(_pair_off(pairs)[0])


def _pair_off(pairs: list[tuple[float, int, int]]) -> tuple[set[int], set[int]]:
    """Match one to one, from ``(cost, i, j)`` candidate pairs, the cheapest first: the i and
    the j matched."""
    used_i, used_j = set(), set()
    for _, i, j in sorted(pairs):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
    return used_i, used_j


@dataclass
class ClipResult:
    """What a pipeline made of a labelled clip."""

    matching: Matching
    frames: int = 0
    events: dict[str, int] = field(default_factory=dict)  # alerts by rule (statistics excluded)
    by_frame: dict[int, Matching] = field(default_factory=dict)  # each labelled frame's matching
    # The frame number of each crossing counted, by line (the zone's name).
    crossed: dict[str, list[int]] = field(default_factory=dict)

    def crossings(self, line: str | None = None) -> int:
        """Crossings counted over the clip, of ``line`` or of every line."""
        return len(self._crossed_at(line))

    def part(self, frames: range, line: str | None = None) -> tuple[Matching, int]:
        """The matching and the crossings counted (of ``line``, or of every line) over
        ``frames`` only (e.g. the half of a clip not used to tune)."""
        matching = Matching()
        for number, found in self.by_frame.items():
            if number in frames:
                matching.add(found)
        return matching, sum(1 for number in self._crossed_at(line) if number in frames)

    def _crossed_at(self, line: str | None) -> list[int]:
        return [number for name, numbers in self.crossed.items() if line in (None, name)
                for number in numbers]


def evaluate_clip(pipeline, source, points: dict[int, list[tuple[float, float]]], *,
                  original_size: tuple[int, int], frames: range | None = None,
                  on_frame=None) -> ClipResult:
    """Run ``pipeline`` over ``source`` (a ``FrameSource``) and match the live tracks of each
    labelled frame against its points; ``frames`` limits the matching to those frame numbers.

    A labelled person is found by the pipeline when a live track's box (detected on this frame,
    or carried by the tracker from a recent detection) contains them. ``on_frame(number,
    analysis, events)`` is called for every frame analysed.
    """
    result = ClipResult(Matching())
    for t, frame in source:
        number = source.stats.frames_read - 1
        analysis, events = pipeline.process(t, frame)
        result.frames += 1
        for event in events:
            if event.statistic:
                result.crossed.setdefault(event.zone, []).extend(
                    [number] * event.details.get("count", 1))
            else:
                result.events[event.rule] = result.events.get(event.rule, 0) + 1
        if on_frame is not None:
            on_frame(number, analysis, events)
        if number in points and (frames is None or number in frames):
            width, height = analysis.size
            scale = (width / original_size[0], height / original_size[1])
            boxes = [track.box for track in analysis.tracks if track.missed == 0]
            found = result.by_frame[number] = match_points(boxes, points[number], scale=scale)
            result.matching.add(found)
    return result
