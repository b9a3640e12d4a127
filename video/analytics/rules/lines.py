"""Line crossings: people counted as they cross a line, statistics never alerts."""

import math
from dataclasses import dataclass

from .base import Rule, RuleParams, _check


@dataclass
class LineCrossingParams(RuleParams):
    band: float = 0.2  # a side is taken this far from the line, in heights of the track's box
    coast_seconds: float = 0.5  # a track carried past the line this soon after it was last seen

    def validate(self):
        super().validate()
        _check(self, "band", minimum=0, maximum=1)
        _check(self, "coast_seconds", minimum=0)


def _cross(a, b, point) -> float:
    return (b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0])


class LineCrossing(Rule):
    """Counts tracks crossing a line zone: statistics, never alerts.

    Side "a" is on the left of someone walking along the line from its first point to its last,
    as seen on the image (above a line drawn left to right); "a_to_b" crosses from there. A track
    takes a side once its feet (the bottom centre of its box) are ``band`` box heights from the
    line, and a crossing is counted when it takes the other one, past the line itself and not
    beyond its ends: a box that jitters about the line counts once, not at every jitter.

    A track missed by the detector for a few frames keeps its side and still counts once seen
    again past the line. One the tracker carries past the line (at its last speed) within
    ``coast_seconds`` of being last seen, then drops without seeing it again, has crossed too:
    counted when dropped; so has one dropped when last seen past the line, within the band.
    Seen again on its first side, it has not.
    """

    name = "line_crossing"
    Params = LineCrossingParams
    zone_kind = "line"
    needs_zone = True

    def reset(self):
        # (track, line, segment) -> (on side b, where the track took that side)
        self._sides: dict[tuple[int, str, int], tuple[bool, tuple[float, float]]] = {}
        # track -> crossings it was carried through while missed: (line, direction, box, label)
        self._pending: dict[int, list[tuple]] = {}

    def _evaluate(self, analysis):
        p, size, events = self.params, analysis.size, []
        present = {track.id for track in analysis.tracks}
        for track_id in [key for key in self._pending if key not in present]:
            for line, direction, box, label in self._pending.pop(track_id):
                events.append(self._count(analysis, line, direction, box, label))
        self._sides = {key: side for key, side in self._sides.items() if key[0] in present}
        for track in analysis.tracks:
            seen = track.missed == 0
            if not seen and analysis.t - track.last_seen > p.coast_seconds + 1e-6:
                continue  # carried too long to say where it is: keeps what it had
            crossed, unsettled = self._crossings(track, size, seen)
            if seen:
                events.extend(self._count(analysis, line, direction, track.box, track.label)
                              for line, direction in crossed)
                crossed = []
            # Counted if the track is dropped there: carried past the line, or seen past it
            # but within the band (someone leaving the frame just after a line drawn close
            # to its edge).
            pending = [(line, direction, track.box, track.label)
                       for line, direction in crossed + unsettled]
            if pending:
                self._pending[track.id] = pending
            else:
                self._pending.pop(track.id, None)
        return events

    def _crossings(self, track, size, seen: bool) -> tuple[list, list]:
        """The lines the track's feet crossed since it took its side of each, and which way;
        then those it is past but still within the band of. The sides are updated only from
        where the track is seen (``seen``)."""
        point = track.box.bottom_center
        band = self.params.band * track.box.h
        crossed, unsettled = [], []
        for line in self.zones:
            ends = self._polygon(line, size)
            for index, (a, b) in enumerate(zip(ends[:-1], ends[1:])):
                length = math.hypot(b[0] - a[0], b[1] - a[1])
                if not length:
                    continue
                distance = _cross(a, b, point) / length
                is_b = distance >= 0  # a point exactly on the line (no band) is on side b
                key = (track.id, line.name, index)
                previous = self._sides.get(key)
                within = band and abs(distance) < band  # about the line: its side holds
                if seen and not within:
                    self._sides[key] = (is_b, point)
                if previous is None or previous[0] == is_b:
                    continue
                anchor = previous[1]
                if _cross(anchor, point, a) * _cross(anchor, point, b) > 0:
                    continue  # went round an end of the line
                (unsettled if within else crossed).append(
                    (line.name, "a_to_b" if is_b else "b_to_a"))
                break
        return crossed, unsettled

    def _count(self, analysis, line: str, direction: str, box, label: str):
        return self._event(analysis, line, 0.9, box=box, statistic=True, direction=direction,
                           count=1, label=label)
