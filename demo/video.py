"""Demo cameras of Dijon, each playing a generated clip in a loop so the analyses fire visibly,
and the wall screens of the room.

The clips are drawn by ``video.analytics.synthetic`` (deterministic: the same clip every time)
and written under ``var/demo-cache/`` (``demo.media``) the first time this version is loaded.
"""

from pathlib import Path

from controlroom.services import configuration_save
from demo import media
from demo.incidents import DEMO_ACTOR, PLACES
from video.analytics.synthetic import Flame, Scene, Walker
from video.analytics.types import Box
from video.models import Camera, Screen

FPS = 10
SECONDS = 60
WIDTH, HEIGHT = 640, 360


def _person(x, y, vx, vy, appears, disappears, colour=(40, 40, 60)):
    return Walker(start=(x, y), velocity=(vx, vy), size=(28, 70), shape="person",
                  colour=colour, appears=appears, disappears=disappears)


# Each scene loops every SECONDS; what it shows is what its camera's analyses look for.
SCENES = {
    # A traveller puts a bag down on the forecourt and walks away; someone passes later.
    "gare-parvis": Scene(WIDTH, HEIGHT, seed=2, noise=2.0, walkers=(
        _person(-30, 200, 60, 0, 2, 5.5),
        _person(300, 200, 0, 0, 5.5, 8),
        Walker(start=(300, 252), velocity=(0, 0), size=(30, 22), colour=(20, 20, 25),
               appears=6, disappears=50),
        _person(300, 200, 60, 0, 8, 16),
        _person(660, 170, -50, 0, 30, 45, colour=(90, 40, 30)),
    )),
    # People walk along the pavement (counted at the crossing); one walks onto the tram tracks.
    "liberation-tram": Scene(WIDTH, HEIGHT, seed=11, noise=2.0, walkers=(
        _person(-30, 120, 45, 0, 1, 17),
        _person(660, 110, -40, 0, 12, 30, colour=(30, 60, 90)),
        _person(-30, 220, 45, 0, 25, 43),
        _person(660, 100, -50, 0, 44, 58, colour=(60, 30, 30)),
    )),
    # A fire starts by the municipal depot's wall and spreads.
    "depot-ouche": Scene(WIDTH, HEIGHT, seed=15, noise=2.0, flames=(
        Flame(Box(400, 250, 16, 16), appears=20, grows_to=Box(370, 190, 70, 80),
              grow_seconds=10),
    )),
    # The town hall's courtyard: passers-by counted at the gate; the windows are masked.
    "mairie-cour": Scene(WIDTH, HEIGHT, seed=20, noise=2.0, walkers=(
        _person(100, -70, 0, 30, 3, 20),
        _person(400, 360, 0, -30, 15, 32, colour=(80, 60, 30)),
        _person(250, -70, 0, 35, 35, 50, colour=(30, 80, 50)),
    )),
}

TRACKS = [[0.5, 0.55], [1, 0.55], [1, 1], [0.5, 1]]

# code, name, place, offset (m north, m east), sensitive, analytics, zones, masks
CAMERAS = [
    ("cam-gare-parvis", "Parvis de la gare Dijon-Ville", "gare", (20, 0), False,
     {"abandoned_object": {"params": {"min_seconds": 10}}}, [], []),
    ("cam-liberation-tram", "Place de la Libération — voies du tram", "liberation", (0, 20), False,
     {"intrusion": {"zones": ["voies du tram"]}, "line_crossing": {"zones": ["passage piéton"]}},
     [{"name": "voies du tram", "points": TRACKS},
      {"name": "passage piéton", "kind": "line", "points": [[0.45, 0.2], [0.45, 0.5]]}], []),
    ("cam-depot-ouche", "Dépôt municipal du port du canal", "ouche", (0, 0), False,
     {"fire_smoke": {"params": {"min_seconds": 3}}}, [], []),
    ("cam-mairie-cour", "Cour d'honneur de l'hôtel de ville", "liberation", (-30, -10), True,
     {"line_crossing": {"zones": ["grille"]}},
     [{"name": "grille", "kind": "line", "points": [[0, 0.5], [1, 0.5]]}],
     [[[0.72, 0.05], [0.95, 0.05], [0.95, 0.35], [0.72, 0.35]]]),
]

SCREENS = [
    ("mur-1", "Mur d'images — écran 1", "Salle opérationnelle"),
    ("mur-2", "Mur d'images — écran 2", "Salle opérationnelle"),
    ("superviseur", "Écran du superviseur", "Poste superviseur"),
]


def clips_directory() -> Path:
    """Where this version of the clips is kept: the drawing code, the scenes and OpenCV's
    version (its encoder writes the files) make the version."""
    import cv2

    from video.analytics import synthetic

    scenes = [(name, scene.width, scene.height, scene.walkers, scene.flames, scene.noise,
               scene.seed) for name, scene in SCENES.items()]
    return media.directory("video", code=[synthetic],
                           parameters=(scenes, FPS, SECONDS, cv2.__version__))


def write_clip(name: str, directory: Path | None = None) -> Path:
    """The scene's clip, written once (an existing file is kept)."""
    directory = directory or clips_directory()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.avi"
    if not media.present(path):
        partial = media.partial(path)
        SCENES[name].write(partial, SECONDS * FPS, fps=FPS)
        partial.replace(path)
    return path


def load(context: dict) -> None:
    from controlroom.selectors import sector_at

    for code, name, place, (north, east), sensitive, analytics, zones, masks in CAMERAS:
        if Camera.objects.filter(code=code).exists():
            continue
        lat = PLACES[place][0] + north / 111_000
        lon = PLACES[place][1] + east / 75_000
        clip = write_clip(code.removeprefix("cam-"))
        camera = Camera(code=code, name=name, stream_url=str(clip), target_fps=5,
                        analytics=analytics, zones=zones, masks=masks, sensitive=sensitive,
                        detector=Camera.Detector.MOTION)
        camera.set_point(lat, lon)
        camera.sector = sector_at(lat=lat, lon=lon)
        # Journaled like an administrator's creation: replay draws it from then on.
        configuration_save(instance=camera, by=DEMO_ACTOR, created=True)
    for code, name, place in SCREENS:
        if not Screen.objects.filter(code=code).exists():
            configuration_save(instance=Screen(code=code, name=name, place=place), by=DEMO_ACTOR,
                               created=True)
    context.setdefault("notes", []).append(
        f"video: 4 demo cameras play generated clips ({clips_directory()}); wall screens at "
        "/video/ecrans/mur-1/, mur-2, superviseur")
