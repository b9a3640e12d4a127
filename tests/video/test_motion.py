"""The motion gate: quiet on an idle scene, a foreground mask over what moves."""

import numpy as np
import pytest

from video.analytics.motion import MotionGate
from video.analytics.synthetic import Flame, Scene, Walker, person_sprite
from video.analytics.types import Box

FPS = 10


def test_an_idle_noisy_scene_is_not_moving_after_warm_up():
    scene = Scene(320, 180, noise=3.0, seed=1)
    gate = MotionGate()

    results = [gate.apply(frame) for frame in scene.frames(40, FPS)]

    assert [moving for _, _, moving in results[5:]] == [False] * 35
    assert max(fraction for _, fraction, _ in results[5:]) < 0.002
    assert all(mask.shape == (180, 320) and mask.dtype == np.uint8 for mask, _, _ in results)


@pytest.mark.parametrize("kind", ["mog2", "knn"])
def test_a_moving_rectangle_is_moving_and_covered_by_the_mask(kind):
    walker = Walker(start=(20, 60), velocity=(80, 0), size=(24, 60), colour=(20, 20, 20),
                    appears=2.0)
    scene = Scene(320, 180, walkers=(walker,), noise=2.0, seed=2)
    gate = MotionGate(kind=kind)
    frames = list(scene.frames(40, FPS))

    results = [gate.apply(frame) for frame in frames]

    # KNN needs a few frames before its first samples agree: warm-up.
    assert not any(moving for _, _, moving in results[5:20])
    assert all(moving for _, _, moving in results[21:])
    mask, fraction, _ = results[30]
    truth = scene.truth(30 / FPS)[0]
    inside = mask[truth.y:truth.y + truth.h, truth.x:truth.x + truth.w]
    assert (inside == 255).mean() > 0.8
    around = mask.copy()
    around[truth.y - 8:truth.y + truth.h + 8, truth.x - 8:truth.x + truth.w + 8] = 0
    assert np.count_nonzero(around) == 0
    assert fraction == pytest.approx(truth.area / (320 * 180), rel=0.3)
    assert set(np.unique(mask)) == {0, 255}


def test_the_idle_shortcut_skips_the_subtractor_but_not_movement():
    walker = Walker(start=(0, 60), velocity=(100, 0), size=(20, 50), colour=(20, 20, 20),
                    appears=6.0)
    scene = Scene(320, 180, walkers=(walker,), noise=2.0, seed=3)
    gate = MotionGate(warm_up=10, refresh_every=25)

    results = [gate.apply(frame) for frame in scene.frames(70, FPS)]

    # 60 idle frames: 10 to warm up, then one in 25 refreshes the model; then 10 moving frames.
    assert gate.frames_modelled == 10 + 2 + 10
    assert gate.frames == 70
    assert not any(moving for _, _, moving in results[:60])
    assert all(moving for _, _, moving in results[61:])


def test_the_gate_accepts_grey_frames_and_reset_forgets_the_background():
    scene = Scene(160, 90, walkers=(Walker((10, 20), (60, 0), (12, 30), appears=1.0),), seed=4)
    gate = MotionGate()
    grey = [frame.mean(axis=2).astype(np.uint8) for frame in scene.frames(20, FPS)]

    assert gate.apply(grey[0])[2] is False
    assert any(gate.apply(frame)[2] for frame in grey[1:])
    gate.reset()
    assert gate.apply(grey[-1])[1] == 0.0


def test_a_flickering_flame_opens_the_gate_where_it_burns():
    scene = Scene(320, 180, flames=(Flame(Box(200, 100, 40, 50), appears=3.0),), seed=6)
    gate = MotionGate()

    results = [gate.apply(frame) for frame in scene.frames(40, FPS)]

    assert not any(moving for _, _, moving in results[2:30])
    # A flicker, not a walker: the model learns it in time, but not in its first second.
    assert sum(moving for _, _, moving in results[30:40]) >= 7
    outside = np.ones((180, 320), bool)
    outside[92:158, 192:248] = False
    assert all(np.count_nonzero(mask[outside]) == 0 for mask, _, _ in results)
    assert np.count_nonzero(results[31][0][100:150, 200:240])


def test_a_person_sprite_is_as_tall_as_asked_and_narrower():
    image, mask = person_sprite(90)

    assert mask.shape == (90, 36) and image.shape == (90, 36, 3)
    rows = np.flatnonzero(mask.any(axis=1))
    assert rows[0] == 0 and rows[-1] == 89  # head to feet
    assert 0.2 < np.count_nonzero(mask) / mask.size < 0.7
