"""The demo's generated clips through the whole pipeline, as the workers build it from the
cameras' settings: each analysis fires on its clip, and stays quiet on the same street without
what it looks for (the control clip)."""

from dataclasses import replace

import pytest
from django.utils import timezone

from demo import video as demo
from video.analysis import build_pipeline
from video.analytics.source import FrameSource
from video.models import Camera

SECONDS = 40  # every demo scene shows its event within its first 40 s


def camera_of(code: str, clip) -> Camera:
    _code, name, _place, _offset, sensitive, analytics, zones, masks = next(
        row for row in demo.CAMERAS if row[0] == code)
    camera = Camera(code=code, name=name, stream_url=str(clip), analytics=analytics, zones=zones,
                    masks=masks, sensitive=sensitive, detector=Camera.Detector.MOTION,
                    target_fps=5)
    camera.updated_at = timezone.now()
    return camera


def events(code: str, scene, tmp_path) -> list:
    clip = scene.write(tmp_path / f"{code}.avi", SECONDS * demo.FPS, fps=demo.FPS)
    pipeline = build_pipeline(camera_of(code, clip))
    found = []
    for t, frame in FrameSource(str(clip), target_fps=5, size=(demo.WIDTH, demo.HEIGHT)):
        found += [event for event in pipeline.process(t, frame)[1] if not event.statistic]
    return found


def without_walkers(scene, keep):
    return replace(scene, walkers=tuple(w for w in scene.walkers if keep(w)), background=None)


@pytest.mark.parametrize("code, scene, rule, control", [
    ("cam-gare-parvis", "gare-parvis", "abandoned_object",
     lambda s: without_walkers(s, lambda w: w.shape == "person")),  # nobody leaves a bag
    ("cam-liberation-tram", "liberation-tram", "intrusion",
     lambda s: without_walkers(s, lambda w: w.start[1] < 150)),  # everyone on the pavement
    ("cam-depot-ouche", "depot-ouche", "fire_smoke",
     lambda s: replace(s, flames=(), background=None)),
])
def test_each_demo_analysis_fires_on_its_clip_and_not_on_the_control(code, scene, rule, control,
                                                                     tmp_path):
    original = demo.SCENES[scene]
    fired = events(code, original, tmp_path)
    assert fired and {event.rule for event in fired} == {rule}
    (tmp_path / "control").mkdir()
    assert events(code, control(original), tmp_path / "control") == []
