"""Measuring the analysis against hand labels: points matched to boxes, crossings to crossings."""

from video.analytics.evaluation import (
    ClipResult,
    Matching,
    counting_error,
    match_points,
    matched_crossings,
)
from video.analytics.types import Box


def test_a_right_count_made_of_a_miss_and_a_double_is_not_all_real():
    true = [10, 50, 90]
    counted = [11, 52, 53]  # the crossing at 90 missed, the one at 50 counted twice

    assert counting_error(len(counted), len(true)) == 0
    assert matched_crossings(counted, true, tolerance=5) == 2


def test_crossings_are_matched_closest_first_and_each_once():
    # 14 is closer to 15 than 12 is; 12 then takes 8 (4 frames away), not 15 again.
    assert matched_crossings([12, 14], [8, 15], tolerance=4) == 2
    assert matched_crossings([12, 14], [15], tolerance=4) == 1
    assert matched_crossings([30], [15], tolerance=4) == 0
    assert matched_crossings([], [15], tolerance=4) == 0


def test_crossings_are_kept_per_line_and_split_by_frames():
    result = ClipResult(Matching(), crossed={"passage": [5, 400, 700], "route": [10]})

    assert result.crossings() == 4
    assert result.crossings("passage") == 3
    assert result.crossings("absent") == 0
    assert result.part(range(398, 795))[1] == 2
    assert result.part(range(0, 398), "route")[1] == 1


def test_a_point_is_found_by_the_box_around_it_once():
    boxes = [Box(0, 0, 10, 20), Box(100, 100, 10, 20)]
    found = match_points(boxes, [(5, 10), (6, 11), (300, 300)])

    assert (found.labelled, found.found, found.boxes, found.true_boxes) == (3, 1, 2, 1)
