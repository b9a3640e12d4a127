"""The tracker: ids kept through a crossing, tracks dropped after misses, velocities."""

import pytest

from video.analytics.tracking import Tracker
from video.analytics.types import Box, Detection

FPS = 10


def person(x: int, y: int, w: int = 20, h: int = 50) -> Detection:
    return Detection(Box(x, y, w, h), 0.9, "person")


def crossing(frame: int) -> list[Detection]:
    """Two people on the same path, 10 px a frame towards each other; they overlap mid-way."""
    return [person(10 * frame, 100), person(200 - 10 * frame, 104)]


def test_two_people_crossing_keep_their_ids():
    tracker = Tracker()
    seen = []

    for frame in range(21):
        tracks = tracker.update(frame / FPS, crossing(frame))
        seen.append({track.id: track.box.x for track in tracks})

    assert seen[0] == {1: 0, 2: 200}
    assert seen[10] == {1: 100, 2: 100}  # fully overlapping
    assert seen[-1] == {1: 200, 2: 0}  # each went on its way under its own id
    assert all(set(ids) == {1, 2} for ids in seen)


def test_velocities_point_the_way_each_moves():
    tracker = Tracker()
    for frame in range(6):
        tracks = {track.id: track for track in tracker.update(frame / FPS, crossing(frame))}

    (vx1, vy1), (vx2, vy2) = tracks[1].velocity(), tracks[2].velocity()
    assert vx1 == pytest.approx(100) and vy1 == pytest.approx(0)
    assert vx2 == pytest.approx(-100) and vy2 == pytest.approx(0)
    assert tracks[1].dwell == pytest.approx(0.5)
    assert tracks[1].hits == 6


def test_a_track_survives_max_missed_frames_then_is_dropped():
    tracker = Tracker(max_missed=3)
    for frame in range(5):
        tracker.update(frame / FPS, [person(5 * frame, 50)])

    missed = [[track.missed for track in tracker.update((5 + k) / FPS, [])] for k in range(4)]

    assert missed == [[1], [2], [3], []]
    assert tracker.tracks == []


def test_a_missed_track_is_found_again_where_its_motion_leads():
    tracker = Tracker(max_missed=5)
    for frame in range(5):
        tracker.update(frame / FPS, [person(20 * frame, 50)])
    tracker.update(0.5, [])
    tracker.update(0.6, [])

    # Hidden two frames, it reappears 60 px further on, beyond what IoU with its last box allows.
    tracks = tracker.update(0.7, [person(140, 50)])

    assert [(track.id, track.missed, track.box.x) for track in tracks] == [(1, 0, 140)]


def test_ids_are_never_reused():
    tracker = Tracker(max_missed=0)
    tracker.update(0.0, [person(0, 0)])
    tracker.update(0.1, [])

    tracks = tracker.update(0.2, [person(0, 0)])

    assert [track.id for track in tracks] == [2]


def test_a_far_detection_starts_a_new_track_and_labels_never_mix():
    tracker = Tracker(max_distance=50)
    tracker.update(0.0, [person(0, 0)])

    tracks = tracker.update(0.1, [person(300, 0),
                                  Detection(Box(0, 0, 20, 50), 0.8, "vehicle")])

    assert sorted((track.id, track.label, track.missed) for track in tracks) == [
        (1, "person", 1), (2, "person", 0), (3, "vehicle", 0)]


def test_history_is_bounded_and_holds_box_centres():
    tracker = Tracker(history_size=5)
    for frame in range(12):
        tracks = tracker.update(frame / FPS, [person(2 * frame, 10)])

    history = tracks[0].history
    assert len(history) == 5
    assert history[-1] == pytest.approx((1.1, 22 + 10, 35))
    assert history[0][0] == pytest.approx(0.7)


def test_a_track_not_searched_is_carried_not_missed():
    tracker = Tracker(max_missed=1)
    for frame in range(3):
        tracker.update(frame / FPS, [person(10 * frame, 50)])
    (track,) = tracker.tracks

    for frame in range(3, 8):  # the detector looked elsewhere
        tracker.update(frame / FPS, [], unsearched=frozenset({track.id}))

    assert tracker.tracks == [track] and track.missed == 0 and track.hits == 3
    assert track.box.x == 70  # where its motion leads, 100 px/s on
    tracker.update(0.8, [])  # looked for and not found: missed as usual
    assert track.missed == 1


def test_following_moves_a_track_without_confirming_it():
    tracker = Tracker()
    for frame in range(3):
        tracker.update(frame / FPS, [person(10 * frame, 50)])
    (track,) = tracker.tracks

    tracker.follow(track, 0.3, Box(40, 60, 20, 50))  # the walker's pixels, 10 px lower

    assert (track.box.x, track.box.y) == (40, 60)
    assert track.last_seen == pytest.approx(0.2) and track.hits == 3
    # Predictions start from where it was followed, at the velocity detections gave; its
    # history holds where it was followed (what rules measure speeds on).
    assert tracker.predicted(track, 0.5) == Box(60, 60, 20, 50)
    assert track.history[-1] == (0.3, 50, 85)
    assert track.velocity() == (pytest.approx(40 / 0.3), pytest.approx(10 / 0.3))
