"""Cameras on generated clips, for the tests of the analysis loop, evidence, live view, screens."""

import uuid

import pytest

from video.analytics.synthetic import Scene, Walker
from video.models import Camera

DARCY = (47.3225, 5.0352)
TRACKS = [[0.5, 0.55], [1, 0.55], [1, 1], [0.5, 1]]
MASK = [[0.0, 0.0], [0.25, 0.0], [0.25, 0.3], [0.0, 0.3]]


def intruder_scene(seconds_in: float = 3.0) -> Scene:
    """Someone walks along the pavement, then onto the tracks (right half, lower part)."""
    return Scene(640, 360, seed=11, noise=2.0, walkers=(
        Walker(start=(-30, 220), velocity=(45, 0), size=(28, 70), shape="person",
               colour=(40, 40, 60), appears=seconds_in, disappears=None),
    ))


@pytest.fixture(autouse=True)
def own_frames_cache(settings, tmp_path):
    """Each test its own live frames: a key prefix on Redis, a folder for the file cache."""
    frames = dict(settings.CACHES["frames"])
    if frames["BACKEND"].endswith("FileBasedCache"):
        frames["LOCATION"] = str(tmp_path / "frames")
    frames["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {**settings.CACHES, "frames": frames}


@pytest.fixture(scope="session")
def intruder_clip(tmp_path_factory):
    """20 s at 10 fps: the walker reaches the tracks zone at about 10.6 s."""
    path = tmp_path_factory.mktemp("clips") / "intrusion.avi"
    return intruder_scene().write(path, 200, fps=10)


@pytest.fixture
def make_camera(city, categories):
    from controlroom.selectors import sector_at

    def make(code="cam-test", stream_url="", **extra):
        fields = {"name": code.replace("-", " ").title(), "target_fps": 5,
                  "detector": Camera.Detector.MOTION, **extra}
        camera = Camera(code=code, stream_url=str(stream_url), **fields)
        camera.set_point(*DARCY)
        camera.sector = sector_at(lat=DARCY[0], lon=DARCY[1])
        camera.full_clean()
        camera.save()
        return camera

    return make


@pytest.fixture
def tram_camera(make_camera, intruder_clip):
    return make_camera(
        "cam-tram", intruder_clip,
        analytics={"intrusion": {"zones": ["voies"]}, "line_crossing": {"zones": ["passage"]}},
        zones=[{"name": "voies", "points": TRACKS},
               {"name": "passage", "kind": "line", "points": [[0.45, 0.5], [0.45, 0.9]]}],
        masks=[MASK])
