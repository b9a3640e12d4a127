"""Multi-object tracking: the same id for the same object from one frame to the next.

Greedy association, best pairs first: by the overlap (IoU) of each track's predicted box with
the detections, then, for what is left, by the distance between centres. A track's box is
predicted at constant velocity, which is what keeps two people crossing from swapping ids.
"""

from dataclasses import dataclass

from .types import Box, Detection, Track


@dataclass
class _Motion:
    box: Box  # where the track was last placed: detected, or followed
    t: float  # when
    detected: Box  # where it was last detected (at its track's ``last_seen``)
    vx: float = 0.0  # pixels per second, smoothed
    vy: float = 0.0


class Tracker:
    """Follow detections over time; ``update`` returns the live tracks.

    A track not matched in a frame has ``missed`` incremented and is dropped once it has been
    missed more than ``max_missed`` frames in a row. Live tracks include those missed in the
    current frame (``missed > 0``): people hidden for a moment keep their id and dwell time.
    The tracks returned are the tracker's own objects, updated in place by the next call.
    """

    def __init__(self, *, iou_threshold: float = 0.3, max_missed: int = 10,
                 max_distance: float = 80, history_size: int = 120, smoothing: float = 0.5):
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.max_distance = max_distance
        self.history_size = history_size
        self.smoothing = smoothing
        self.tracks: list[Track] = []
        self._motion: dict[int, _Motion] = {}
        self._next_id = 1

    def update(self, t: float, detections: list[Detection], *,
               unsearched: frozenset[int] = frozenset()) -> list[Track]:
        """Associate this frame's detections (an empty list ages every track).

        Tracks whose ids are in ``unsearched`` were not looked for this time (the detector
        searched elsewhere): unmatched, they are moved where they should be, not counted missed.
        """
        predicted = {track.id: self.predicted(track, t) for track in self.tracks}
        pairs = []
        for ti, track in enumerate(self.tracks):
            for di, detection in enumerate(detections):
                if detection.label != track.label:
                    continue
                overlap = predicted[track.id].iou(detection.box)
                if overlap >= self.iou_threshold:
                    pairs.append((-overlap, ti, di))
        matches = _greedy(sorted(pairs), set(), set())
        used_tracks = {ti for ti, _ in matches}
        used_detections = {di for _, di in matches}
        pairs = []
        for ti, track in enumerate(self.tracks):
            if ti in used_tracks:
                continue
            px, py = predicted[track.id].center
            for di, detection in enumerate(detections):
                if di in used_detections or detection.label != track.label:
                    continue
                cx, cy = detection.box.center
                distance = ((cx - px) ** 2 + (cy - py) ** 2) ** 0.5
                # Further than its own height from where it should be: someone else.
                if distance <= min(self.max_distance, track.box.h):
                    pairs.append((distance, ti, di))
        matches += _greedy(sorted(pairs), used_tracks, used_detections)

        matched = dict(matches)
        used_detections = set(matched.values())
        for ti, track in enumerate(self.tracks):
            if ti in matched:
                self._hit(track, t, detections[matched[ti]].box)
            elif track.id in unsearched:
                track.box = predicted[track.id]
            else:
                track.missed += 1
        for di, detection in enumerate(detections):
            if di not in used_detections:
                self._start(t, detection)
        dropped = [track for track in self.tracks if track.missed > self.max_missed]
        for track in dropped:
            self._motion.pop(track.id, None)
        self.tracks = [track for track in self.tracks if track.missed <= self.max_missed]
        return list(self.tracks)

    def predict(self, t: float) -> list[Track]:
        """Move the tracks to where they should be at ``t``, between two detections (the
        detector need not run on every frame); nothing is counted as missed."""
        for track in self.tracks:
            track.box = self.predicted(track, t)
        return list(self.tracks)

    def reset(self) -> None:
        self.tracks = []
        self._motion.clear()

    def predicted(self, track: Track, t: float) -> Box:
        """Where ``track`` should be at ``t``: at its velocity from where it was last placed
        (detected or followed)."""
        motion = self._motion[track.id]
        dt = t - motion.t
        if dt <= 0:
            return motion.box
        dx, dy = motion.vx * dt, motion.vy * dt
        return Box(round(motion.box.x + dx), round(motion.box.y + dy), motion.box.w, motion.box.h)

    def follow(self, track: Track, t: float, box: Box) -> None:
        """Place ``track`` at ``box`` at ``t`` from a cheaper cue than a detection (e.g. the
        moving pixels under it): later predictions start there and its history records it (the
        rules' speeds and directions). The track is not confirmed (``last_seen`` and ``hits``
        stay as they are) and the velocity it is predicted at stays the detections'."""
        motion = self._motion[track.id]
        track.box = motion.box = box
        motion.t = t
        self._record(track, t, box)

    def _hit(self, track: Track, t: float, box: Box) -> None:
        motion = self._motion[track.id]
        dt = t - track.last_seen
        if dt > 0:
            (x0, y0), (x1, y1) = motion.detected.center, box.center
            a = self.smoothing if track.hits > 1 else 1.0
            motion.vx = a * (x1 - x0) / dt + (1 - a) * motion.vx
            motion.vy = a * (y1 - y0) / dt + (1 - a) * motion.vy
        track.box = motion.box = motion.detected = box
        motion.t = t
        track.last_seen = t
        track.hits += 1
        track.missed = 0
        self._record(track, t, box)

    def _record(self, track: Track, t: float, box: Box) -> None:
        track.history.append((t, *box.center))
        if len(track.history) > self.history_size:
            del track.history[:-self.history_size]

    def _start(self, t: float, detection: Detection) -> None:
        track = Track(id=self._next_id, box=detection.box, label=detection.label,
                      first_seen=t, last_seen=t, history=[(t, *detection.box.center)])
        self._next_id += 1
        self._motion[track.id] = _Motion(detection.box, t, detection.box)
        self.tracks.append(track)


def _greedy(pairs, used_tracks: set, used_detections: set) -> list[tuple[int, int]]:
    """Take the pairs in order, each track and each detection at most once."""
    used_tracks, used_detections = set(used_tracks), set(used_detections)
    matches = []
    for _, ti, di in pairs:
        if ti in used_tracks or di in used_detections:
            continue
        matches.append((ti, di))
        used_tracks.add(ti)
        used_detections.add(di)
    return matches
