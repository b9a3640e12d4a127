"""Rules through the whole pipeline on generated clips: what a real scene asks of them."""

import numpy as np
import pytest

from video.analytics.detectors import MotionBlobDetector
from video.analytics.motion import MotionGate
from video.analytics.pipeline import Pipeline
from video.analytics.rules import build_rule
from video.analytics.synthetic import Scene, Walker
from video.analytics.tracking import Tracker

FPS = 10
OWNER = (40, 40, 60)


def events_of(scene: Scene, seconds: float, rules) -> list:
    pipeline = Pipeline(detector=MotionBlobDetector(min_area=80), motion=MotionGate(),
                        tracker=Tracker(), rules=rules)
    found = []
    for index, frame in enumerate(scene.frames(round(seconds * FPS), fps=FPS)):
        found.extend(pipeline.process(index / FPS, frame)[1])
    return found


def test_a_bag_really_left_still_fires_abandoned_object():
    scene = Scene(320, 180, seed=3, noise=2.0, walkers=(
        # Someone walks in, stands by the spot, puts a bag down at 6 s and walks away at 8 s.
        Walker(start=(-20, 80), velocity=(40, 0), size=(20, 50), shape="person", colour=OWNER,
               appears=2.0, disappears=5.0),
        Walker(start=(100, 80), velocity=(0, 0), size=(20, 50), shape="person", colour=OWNER,
               appears=5.0, disappears=8.0),
        Walker(start=(100, 80), velocity=(40, 0), size=(20, 50), shape="person", colour=OWNER,
               appears=8.0, disappears=None),
        Walker(start=(122, 116), velocity=(0, 0), size=(16, 14), shape="rect",
               colour=(200, 210, 230), appears=6.0, disappears=None),
    ))
    rule = build_rule("abandoned_object", {"min_seconds": 10}, [])
    found = [e for e in events_of(scene, 30, [rule]) if e.rule == "abandoned_object"]
    assert len(found) == 1
    assert 16 <= found[0].t <= 22  # 10 s after the owner left it
    bag = found[0].box
    assert 110 <= bag.x + bag.w / 2 <= 140 and 110 <= bag.y + bag.h / 2 <= 135


def test_someone_standing_in_the_first_frame_who_walks_away_leaves_no_ghost():
    scene = Scene(320, 180, seed=4, noise=2.0, walkers=(
        Walker(start=(100, 70), velocity=(0, 0), size=(24, 60), shape="person", colour=OWNER,
               appears=0.0, disappears=3.0),
        Walker(start=(100, 70), velocity=(45, 0), size=(24, 60), shape="person", colour=OWNER,
               appears=3.0, disappears=None),
    ))
    rules = [build_rule("abandoned_object", {"min_seconds": 5}, []),
             build_rule("loitering", {"max_seconds": 10}, [])]
    assert events_of(scene, 25, rules) == []


def test_a_steady_busy_scene_is_its_own_normal_for_crowd_movement():
    """People walking both ways all along, as many in view from the first second to the last:
    brisk, widespread and in all directions, yet nothing sudden."""
    rng = np.random.default_rng(0)
    walkers = []
    for side in (1, -1):
        for x in rng.uniform(-480, 320, 30):  # evenly spread: as many enter as leave
            walkers.append(Walker(start=(float(x if side > 0 else 320 - x),
                                         float(rng.uniform(10, 130))),
                                  velocity=(40.0 * side, 0.0), size=(16, 40), shape="person",
                                  colour=OWNER))
    rule = build_rule("crowd_movement", {"min_fraction": 0.05}, [])
    assert events_of(Scene(320, 180, seed=5, walkers=tuple(walkers)), 12, [rule]) == []


@pytest.mark.parametrize("people", [8, 20])
def test_density_counts_people_from_the_moving_area_once_calibrated(people):
    from tests.video.test_rules import analysis, steps

    person_area = 0.01  # this camera's calibration: one person covers 1 % of the frame
    rule = build_rule("density", {"max_persons": 15, "max_fraction": None, "min_seconds": 2,
                                  "person_area": person_area}, [])
    found = []
    for t in steps(5):
        foreground = np.zeros((180, 320), np.uint8)
        foreground.reshape(-1)[:round(people * person_area * foreground.size)] = 255
        found += rule.evaluate(analysis(t, foreground=foreground))
    assert [e.details["persons"] for e in found] == ([20] if people == 20 else [])
