"""Demo sound sensors of Dijon, playing generated recordings (cached under var/demo-cache/).

Every file lasts the same time and loops in step with the clock, so the sensors hear one scene
as real sensors would: loud music late at night on place de la République, a scream rue
Berbisey, and shots near place de la Libération heard by six sensors, with the propagation
delays (and an echo) of where each stands, so the shots are located on the map.
"""

import wave
from datetime import time
from pathlib import Path

import numpy as np

from controlroom.geo import distance_m
from controlroom.services import configuration_save
from demo import media
from demo.incidents import DEMO_ACTOR, PLACES
from devices.acoustics import synth
from devices.acoustics.locate import SPEED_OF_SOUND
from devices.models import Device, SoundSensor

SAMPLE_RATE = 16000
SECONDS = 120  # every file: they loop together
BACKGROUND_DB = 58.0  # street background, dB(A) with the default calibration (120 dB)
SHOT_AT = 47.3217, 5.0405  # rue de la Liberté, between the square and the town hall
SHOT_TIMES = (40.0, 41.1)  # two shots in each loop
# A long cry, rising then falling; one the judge recognises (it learned real screams, and
# most generated ones it does not take for a cry).
SCREAM_SEED = 4
PURPOSE_SHOTS = ("Détecter les détonations et en localiser l'origine pour envoyer une patrouille "
                 "et orienter les caméras.")

# code, name, place, offset (m north, m east), detections, night window, scene
SENSORS = [
    ("son-republique", "Capteur sonore place de la République", "republique", (0, 30),
     ["music", "scream", "glass", "detonation"], ("00:00", "00:00"), "music"),
    ("son-berbisey", "Capteur sonore rue Berbisey", "berbisey", (-10, 0),
     ["scream", "glass", "detonation"], ("22:00", "07:00"), "scream"),
    ("son-liberation-n", "Capteur sonore Libération nord", "liberation", (120, 20),
     ["detonation", "scream", "glass"], ("22:00", "07:00"), "shots"),
    ("son-liberation-s", "Capteur sonore Libération sud", "liberation", (-150, 40),
     ["detonation", "scream", "glass"], ("22:00", "07:00"), "shots"),
    ("son-liberation-o", "Capteur sonore rue de la Liberté ouest", "liberation", (10, -240),
     ["detonation", "scream", "glass"], ("22:00", "07:00"), "shots"),
    ("son-liberation-e", "Capteur sonore rue Vaillant", "liberation", (30, 230),
     ["detonation", "scream", "glass"], ("22:00", "07:00"), "shots"),
    ("son-liberation-no", "Capteur sonore rue des Forges", "liberation", (190, -160),
     ["detonation", "scream", "glass"], ("22:00", "07:00"), "shots"),
    ("son-liberation-se", "Capteur sonore rue Chabot-Charny", "liberation", (-120, 280),
     ["detonation", "scream", "glass"], ("22:00", "07:00"), "shots"),
]
# The sensor whose direct path is blocked: it hears a reflection 25 ms late.
ECHOED = "son-liberation-se"


def directory() -> Path:
    """Where this version of the recordings is kept (``demo.media``): the synthesiser, the
    scenes and where each sensor hears them from make the version."""
    positions = [(code, kind, _position(place, north, east))
                 for code, _n, place, (north, east), _d, _w, kind in SENSORS]
    return media.directory(
        "sound", code=[synth, scene, _place, write],
        parameters=(positions, SAMPLE_RATE, SECONDS, BACKGROUND_DB, SHOT_AT, SHOT_TIMES,
                    SCREAM_SEED, ECHOED, SPEED_OF_SOUND, np.__version__))


def recording(number: int, code: str, kind: str, lat: float, lon: float) -> Path:
    """The sensor's recording, drawn only when this version has not been written yet."""
    path = directory() / f"{code}.wav"
    if not media.present(path):
        write(path, scene(code, kind, lat, lon, seed=number))
    return path


def _position(place: str, north: float, east: float) -> tuple[float, float]:
    return PLACES[place][0] + north / 111_000, PLACES[place][1] + east / 75_000


def _place(track: np.ndarray, sound: np.ndarray, at: float) -> None:
    start = int(round(at * SAMPLE_RATE))
    end = min(len(track), start + len(sound))
    track[start:end] += sound[:end - start]


def scene(code: str, kind: str, lat: float, lon: float, seed: int) -> np.ndarray:
    """The recording a demo sensor hears during one loop."""
    rng = np.random.default_rng(seed)
    length = SECONDS * SAMPLE_RATE
    background = "babble" if kind == "music" else "traffic"
    track = synth.scale_to_level(synth.background(rng, background, SECONDS, SAMPLE_RATE),
                                 BACKGROUND_DB, SAMPLE_RATE)
    track = track[:length].astype(np.float64)
    if kind == "music":
        _place(track, synth.scale_to_level(synth.music(rng, SECONDS, SAMPLE_RATE), 75.0,
                                           SAMPLE_RATE), 0.0)
    elif kind == "scream":
        scream = synth.scream(np.random.default_rng(SCREAM_SEED), SAMPLE_RATE)
        _place(track, synth.scale_to_level(scream, 80.0, SAMPLE_RATE), 70.0)
    elif kind == "shots":
        distance = distance_m(lat, lon, *SHOT_AT)
        for shot_number, shot_at in enumerate(SHOT_TIMES):
            shot = synth.gunshot(np.random.default_rng(1000 + shot_number), SAMPLE_RATE,
                                 kind="pistol")
            peak = float(np.max(np.abs(shot))) or 1.0
            # About 0.9 of full scale at 10 m, falling as 1/r.
            amplitude = 0.9 * 10.0 / max(distance, 10.0)
            delay = distance / SPEED_OF_SOUND
            if code == ECHOED:
                amplitude, delay = amplitude * 0.7, delay + 0.025
            _place(track, shot * (amplitude / peak), shot_at + delay)
    return np.clip(track, -1.0, 1.0).astype(np.float32)


def write(path: Path, samples: np.ndarray) -> Path:
    """A 16-bit mono WAV file, written once (an existing file is kept)."""
    if media.present(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = media.partial(path)
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    partial.replace(path)
    return path


def load(context: dict) -> None:
    from controlroom.selectors import sector_at
    from devices import services
    from devices.services.sound import sensor_save

    for number, (code, name, place, (north, east), detections, (night_start, night_end),
                 kind) in enumerate(SENSORS):
        if Device.objects.filter(code=code).exists():
            continue
        lat, lon = _position(place, north, east)
        path = recording(number, code, kind, lat, lon)
        device = Device(code=code, name=name, kind="sound_sensor", address=code,
                        heartbeat_seconds=60)
        device.set_point(lat, lon)
        device.sector = sector_at(lat=lat, lon=lon)
        configuration_save(instance=device, by=DEMO_ACTOR, created=True)
        services.device_report(device=device)
        purpose = {
            "music": "Constater le tapage nocturne (musique amplifiée) sur la place.",
            "scream": "Détecter les cris de détresse et les bris de vitrine dans la rue.",
        }.get(kind, PURPOSE_SHOTS)
        sensor = SoundSensor(device=device, stream_url=str(path), purpose=purpose,
                             detections=detections, night_start=time.fromisoformat(night_start),
                             night_end=time.fromisoformat(night_end),
                             music_min_seconds=60 if kind == "music" else 120)
        sensor_save(sensor=sensor, by=DEMO_ACTOR, created=True)
    context.setdefault("notes", []).append(
        f"sound: 8 demo sensors play generated recordings ({directory()}): music on place de "
        "la République (night window open all day for the demo), a scream rue Berbisey every "
        f"{SECONDS // 60} min, shots near place de la Libération located by six sensors; "
        "public register at /capteurs-sonores/")
