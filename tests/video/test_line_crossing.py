"""The line-crossing count on synthetic tracks: each direction, a box jittering about the line,
people the detector or the tracker lost while crossing."""

from tests.video.test_rules import person, run, scene, walk
from video.analytics.rules import build_rule
from video.analytics.types import Track, Zone

DOOR = Zone("porte", ((0.5, 0.2), (0.5, 0.8)), kind="line")  # drawn downwards: side a at right


def strider(track_id, x0, dx, feet_y=90, frames=10):
    return walk(track_id, [(float(i), person(x0 + dx * i - 10, feet_y - 50))
                           for i in range(frames)])


def test_line_crossing_counts_each_direction():
    times = [float(i) for i in range(10)]
    walkers = [strider(1, 60, 20), strider(2, 40, 25), strider(3, 260, -20),
               strider(4, 60, 20, feet_y=170),  # passes below the end of the line
               strider(5, 60, 0)]  # waits on the left
    events = run(build_rule("line_crossing", {}, [DOOR]), scene(times, *walkers))
    assert all(e.statistic and e.zone == "porte" and e.details["count"] == 1 for e in events)
    # Counted once the feet are a fifth of the box's height (10 px) past the line: at 5 s, one
    # walker is on it and another 5 px past it.
    assert sorted((e.details["direction"], e.t) for e in events) == [
        ("a_to_b", 6.0), ("b_to_a", 6.0), ("b_to_a", 6.0)]
    # Without the band, feet on the line count as side b.
    events = run(build_rule("line_crossing", {"band": 0}, [DOOR]), scene(times, *walkers))
    assert sorted((e.details["direction"], e.t) for e in events) == [
        ("a_to_b", 5.0), ("b_to_a", 5.0), ("b_to_a", 6.0)]


def test_line_crossing_counts_a_box_jittering_about_the_line_once():
    """Someone who stands by the line (the man waiting at it on the campus clip) while their
    box jitters across it, then walks on."""
    xs = [130, 150, 158, 163, 157, 164, 156, 162, 158, 175, 195, 215]
    jitter = walk(1, [(float(i), person(x - 10, 40)) for i, x in enumerate(xs)])
    times = [float(i) for i in range(len(xs))]
    events = run(build_rule("line_crossing", {}, [DOOR]), scene(times, jitter))
    assert [(e.details["direction"], e.t) for e in events] == [("b_to_a", 9.0)]
    assert len(run(build_rule("line_crossing", {"band": 0}, [DOOR]), scene(times, jitter))) == 7


def test_line_crossing_sides_of_a_line_drawn_left_to_right():
    kerb = Zone("bordure", ((0.1, 0.5), (0.9, 0.5)), kind="line")  # side a above
    times = [float(i) for i in range(8)]
    down = walk(1, [(t, person(150, 20 + 10 * t)) for t in times])  # feet from y 70 to 140
    up = walk(2, [(t, person(200, 80 - 10 * t)) for t in times])  # feet from y 130 to 60
    events = run(build_rule("line_crossing", {}, [kerb]), scene(times, down, up))
    assert sorted((e.details["direction"], e.t) for e in events) == [
        ("a_to_b", 3.0), ("b_to_a", 5.0)]  # on the line at 2 s, past it at 3 s


def test_line_crossing_counts_someone_missed_by_the_detector_while_crossing():
    """The tracker keeps a person it missed for a few frames (``missed > 0``): seen again past
    the line, they have crossed it, once; a track the tracker dropped is forgotten."""
    times = [float(i) for i in range(10)]
    seen = strider(1, 60, 20)
    for t in (4.0, 5.0, 6.0):  # about the line (x = 160): not detected
        seen[t].missed = int(t) - 3
    events = run(build_rule("line_crossing", {}, [DOOR]), scene(times, seen))
    assert [(e.details["direction"], e.t) for e in events] == [("b_to_a", 7.0)]

    gone = {t: track for t, track in strider(2, 60, 20).items() if not 4 <= t <= 6}
    assert run(build_rule("line_crossing", {}, [DOOR]), scene(times, gone)) == []


def test_line_crossing_counts_a_track_carried_past_the_line_then_dropped():
    """Lost just before the line and carried past it by the tracker (at its last speed), then
    dropped without being seen again: crossed, counted when dropped. Seen again on its first
    side, or carried for longer than ``coast_seconds`` before passing it: not crossed."""
    def lost(track_id, feet_xs, seen_until, back=None):
        """Feet at ``feet_xs`` (one a frame, 0.1 s apart), seen up to index ``seen_until``,
        then carried (missed); ``back``: seen again there at the next frame."""
        path = [(i / 10, person(x - 10, 40)) for i, x in enumerate(feet_xs)]
        tracks = walk(track_id, path)
        for i, (t, _) in enumerate(path):
            if i > seen_until:
                tracks[t].missed, tracks[t].last_seen = i - seen_until, seen_until / 10
        if back is not None:
            t = len(path) / 10
            tracks[t] = Track(id=track_id, box=person(back - 10, 40), label="person",
                              first_seen=0.0, last_seen=t, hits=seen_until + 2)
        return tracks

    times = [i / 10 for i in range(12)]
    # Seen up to x = 140, carried to 180 (the line at x = 160), dropped at 0.6 s.
    carried = lost(1, [100, 120, 140, 160, 180], seen_until=2)
    events = run(build_rule("line_crossing", {}, [DOOR]), scene(times, carried))
    assert [(e.details["direction"], e.t) for e in events] == [("b_to_a", 0.5)]
    # The same, seen again at x = 135: it had stopped short of the line.
    back = lost(2, [100, 120, 140, 160, 180], seen_until=2, back=135)
    assert run(build_rule("line_crossing", {}, [DOOR]), scene(times, back)) == []
    # Slow: carried a band (10 px) past the line 0.8 s after it was last seen.
    slow = lost(3, [110, 120, 127, 134, 141, 148, 155, 162, 169, 176, 183], seen_until=1)
    assert run(build_rule("line_crossing", {}, [DOOR]), scene(times, slow)) == []
    assert len(run(build_rule("line_crossing", {"coast_seconds": 1.0}, [DOOR]),
                   scene(times, slow))) == 1


def test_line_crossing_counts_a_track_dropped_just_past_the_line():
    """Seen last 5 px past the line (within the band), then gone: out of the frame just after
    a line drawn close to its edge, it has crossed. Back on its first side, it has not."""
    times = [float(i) for i in range(8)]
    leaving = walk(1, [(float(i), person(x - 10, 40)) for i, x in enumerate([120, 140, 165])])
    events = run(build_rule("line_crossing", {}, [DOOR]), scene(times, leaving))
    assert [(e.details["direction"], e.t) for e in events] == [("b_to_a", 3.0)]
    back = walk(2, [(float(i), person(x - 10, 40))
                    for i, x in enumerate([120, 140, 165, 140])])
    assert run(build_rule("line_crossing", {}, [DOOR]), scene(times, back)) == []
