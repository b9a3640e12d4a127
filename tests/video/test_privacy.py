"""Privacy: masks black out exactly their polygon, blurring leaves nothing to read."""

import cv2
import numpy as np
import pytest

from video.analytics.privacy import (
    FaceBlurrer,
    apply_masks,
    blur_regions,
    mask_image,
    sanitise,
)
from video.analytics.types import Box, Zone

WINDOW = Zone("Fenêtres du n° 12", ((0.25, 0.2), (0.75, 0.2), (0.75, 0.8), (0.25, 0.8)), "mask")


def noise_frame(width=200, height=100, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 256, (height, width, 3), dtype=np.uint8)


def checkerboard(frame: np.ndarray, box: Box, square: int = 4) -> np.ndarray:
    ys, xs = np.mgrid[0:box.h, 0:box.w]
    board = np.where(((ys // square + xs // square) % 2) == 0, 255, 0).astype(np.uint8)
    frame[box.y:box.y + box.h, box.x:box.x + box.w] = board[..., None]
    return frame


def test_pixels_inside_a_mask_are_black_and_the_rest_untouched():
    frame = noise_frame()
    original = frame.copy()

    masked = apply_masks(frame, [WINDOW])

    # The polygon spans x 50..150, y 20..80 of the 200x100 frame (edges included).
    assert not masked[20:81, 50:151].any()
    outside = np.ones(frame.shape[:2], bool)
    outside[20:81, 50:151] = False
    assert np.array_equal(masked[outside], frame[outside])
    assert np.array_equal(frame, original)


def test_a_mask_image_keeps_what_analysis_may_see():
    keep = mask_image([WINDOW], 200, 100)

    assert keep.dtype == np.uint8 and keep.shape == (100, 200)
    assert keep[50, 100] == 0 and keep[5, 5] == 255
    assert np.count_nonzero(keep == 0) == 101 * 61


def test_no_mask_is_an_unchanged_copy():
    frame = noise_frame()

    result = apply_masks(frame, [])

    assert result is not frame and np.array_equal(result, frame)


def test_blurring_flattens_a_checkerboard_and_nothing_outside():
    box = Box(40, 30, 96, 96)
    frame = checkerboard(noise_frame(200, 160), box)
    before = frame.copy()

    blurred = blur_regions(frame, [box], margin=0)

    inside = (slice(box.y, box.y + box.h), slice(box.x, box.x + box.w))
    assert before[inside].std() > 120
    assert blurred[inside].std() < 0.1 * before[inside].std()
    outside = np.ones(frame.shape[:2], bool)
    outside[inside] = False
    assert np.array_equal(blurred[outside], before[outside])
    assert np.array_equal(frame, before)


def test_the_blur_margin_widens_the_area_blurred():
    box = Box(40, 30, 50, 50)
    frame = checkerboard(noise_frame(200, 160), Box(30, 20, 70, 70))

    blurred = blur_regions(frame, [box], margin=0.2)

    assert not np.array_equal(blurred[20:30, 30:100], frame[20:30, 30:100])
    assert np.array_equal(blurred[:20], frame[:20])


def test_boxes_partly_outside_the_frame_are_clipped():
    frame = noise_frame()

    blurred = blur_regions(frame, [Box(-30, -30, 60, 60), Box(500, 500, 10, 10)])

    assert blurred.shape == frame.shape
    assert not np.array_equal(blurred[:20, :20], frame[:20, :20])
    assert np.array_equal(blurred[50:, 50:], frame[50:, 50:])


def test_the_face_blurrer_loads_opencvs_cascade_and_runs():
    blurrer = FaceBlurrer()
    frame = np.full((120, 160, 3), 90, np.uint8)
    cv2.circle(frame, (80, 60), 30, (150, 170, 200), -1)  # a face, perhaps not for Haar
    before = frame.copy()

    faces = blurrer.faces(frame)
    blurred = blurrer.blur(frame)

    assert isinstance(faces, list) and all(isinstance(face, Box) for face in faces)
    assert blurred.shape == frame.shape
    assert np.array_equal(frame, before)
    if not faces:
        assert np.array_equal(blurred, frame)


def test_sanitise_masks_then_blurs_persons_without_touching_its_input():
    frame = checkerboard(noise_frame(200, 100), Box(0, 0, 200, 100))
    before = frame.copy()
    walker = Box(160, 10, 36, 80)
    passer_by = Box(130, 0, 30, 100)  # half of them behind the mask

    clean = sanitise(frame, masks=[WINDOW], persons=[walker, passer_by])

    assert np.array_equal(frame, before)
    assert not clean[20:81, 50:151].any()  # masked, even where a blurred person overlaps
    person = (slice(walker.y, walker.y + walker.h), slice(walker.x, walker.x + walker.w))
    assert clean[person].std() < 0.1 * before[person].std()
    assert np.array_equal(clean[:, :40], frame[:, :40])  # nothing there: untouched


def test_sanitise_can_leave_persons_sharp():
    frame = noise_frame()

    clean = sanitise(frame, masks=[], persons=[Box(0, 0, 50, 50)], blur_persons=False,
                     blur_faces=False)

    assert np.array_equal(clean, frame) and clean is not frame


@pytest.mark.parametrize("strength", [0.1, 0.5])
def test_a_stronger_blur_leaves_less(strength):
    box = Box(0, 0, 100, 100)
    frame = checkerboard(np.zeros((100, 100, 3), np.uint8), box, square=10)

    blurred = blur_regions(frame, [box], strength=strength, margin=0)

    assert blurred.std() < 0.25 * frame.std()
