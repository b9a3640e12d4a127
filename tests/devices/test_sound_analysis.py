"""The sound analysis as the workers run it, end to end: a recording or an edge sensor's MQTT
frames in, events, alerts, levels and journal out, and never a sample of audio written."""

import base64
import json
import logging
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core import serializers

from demo.sound import SCREAM_SEED
from demo.sound import write as write_wav
from devices.acoustics import synth
from devices.acoustics.frames import HEADER, MAGIC, encode_frame
from devices.drivers import topic
from devices.drivers.mqtt import client as mqtt_client
from devices.models import Device, SoundEvent, SoundSensor, TelemetryReading
from devices.services import sound
from devices.services.sound_analysis import analyse_window
from incidents.models import Alert
from tests.devices.test_sound import make_sensor  # noqa: F401  (fixture)

RATE = 16000


def street_minute(seed: int = 27) -> np.ndarray:
    """A minute of street traffic with a scream at 10 s, a shot at 30 s and glass at 45 s.

    The judge learned real sounds: it calls generated ones at 18 dB often, not always (the
    benchmark measures real ones); this seed's three are called, which is what the service's
    tests below need."""
    rng = np.random.default_rng(seed)
    track = synth.scale_to_level(synth.background(rng, "traffic", 60, RATE), 62.0, RATE)
    for sound_at, event in ((10, synth.scream(rng, RATE)), (30, synth.gunshot(rng, RATE)),
                            (45, synth.glass(rng, RATE))):
        track = synth.mix(event, track, 18.0, offset=sound_at * RATE, rng=rng)
    return np.clip(track, -1, 1).astype(np.float32)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    samples = street_minute()
    path = write_wav(tmp_path_factory.mktemp("son") / "rue.wav", samples)
    pcm = np.round(samples * 32767).astype("<i2")
    return path, pcm


@pytest.fixture(scope="module")
def audio_index(recording):
    return AudioIndex(recording[1])


def run_file(sensor, path) -> object:
    SoundSensor.objects.filter(pk=sensor.pk).update(stream_url=str(path))
    [(sensor_id, token)] = sound.sensors_due()
    return analyse_window(sensor_id, token=token, seconds=600, realtime=False)


def test_a_recording_gives_its_events_alerts_and_levels(make_sensor, recording):
    sensor = make_sensor("son-rue")
    result = run_file(sensor, recording[0])
    assert result.stopped == "" and result.seconds == pytest.approx(60, abs=0.1)
    kinds = sorted(SoundEvent.objects.values_list("kind", flat=True))
    assert kinds == ["detonation", "glass", "scream"]
    shot = SoundEvent.objects.get(kind="detonation")
    scream = SoundEvent.objects.get(kind="scream")
    assert (shot.started_at - scream.started_at).total_seconds() == pytest.approx(20, abs=1.0)
    categories = set(Alert.objects.values_list("category__code", flat=True))
    assert categories == {"cri_detresse", "coup_de_feu", "bris_de_verre"}
    levels = TelemetryReading.objects.filter(device=sensor.device, metric="laeq_db")
    assert 6 <= levels.count() <= 7  # a reading every 10 s (periods aligned on the clock)
    assert all(45 < value < 85 for value in levels.values_list("value", flat=True))
    sensor.refresh_from_db()
    assert sensor.last_audio_at is not None and sensor.failures == 0
    assert Device.objects.get(pk=sensor.device_id).online


def test_a_disabled_detection_stays_silent(make_sensor, recording):
    sensor = make_sensor("son-cris", detections=["scream"])
    run_file(sensor, recording[0])
    assert list(SoundEvent.objects.values_list("kind", flat=True)) == ["scream"]


# --- privacy: nothing written holds audio --------------------------------------------------------

def _pcm_windows(pcm: np.ndarray) -> np.ndarray:
    """Every run of 4 samples (8 bytes) of the input, as sorted 64-bit words; runs of
    near-silence (indistinguishable from any zeros) are left out."""
    raw = pcm.astype("<i2").tobytes()
    words = [np.frombuffer(raw[k:k + (len(raw) - k) // 8 * 8], "<u8") for k in (0, 2, 4, 6)]
    loud = np.lib.stride_tricks.sliding_window_view(np.abs(pcm.astype(np.int32)) >= 16, 4)
    loud = loud.any(axis=1)
    kept = [w[loud[k // 2::4][:len(w)]] for k, w in zip((0, 2, 4, 6), words, strict=True)]
    return np.unique(np.concatenate(kept))


def _binary_runs(blob: bytes, windows: np.ndarray) -> bool:
    """Whether any 8 bytes of ``blob``, at any offset, are a run of the input (``windows`` is
    sorted)."""
    for k in range(8):
        words = np.frombuffer(blob[k:k + (len(blob) - k) // 8 * 8], "<u8")
        if not len(words):
            continue
        found = np.minimum(np.searchsorted(windows, words), len(windows) - 1)
        if (windows[found] == words).any():
            return True
    return False


def _token_runs(tokens: list[bytes], windows: np.ndarray) -> bool:
    """Decoded tokens (base64, hex) are many and short: one pass over all of them."""
    return bool(tokens) and _binary_runs(b"\0".join(tokens), windows)


RUN = 8  # samples in a row: any list of numbers may share 4 values with quiet audio, not 8
NUMBERS = re.compile(rb"-?\d+(?:\.\d+)?(?:[\s,;]+-?\d+(?:\.\d+)?){%d,}" % (RUN - 1))
BASE64 = re.compile(rb"[A-Za-z0-9+/_-]{16,}")
HEX = re.compile(rb"[0-9a-fA-F]{16,}")


def _run_hashes(values: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every run of RUN consecutive 16-bit values."""
    if len(values) < RUN:
        return np.zeros(0, np.uint64)
    rows = np.lib.stride_tricks.sliding_window_view(values.astype(np.int64) & 0xFFFF, RUN)
    hashes = np.zeros(len(rows), np.uint64)
    for column in range(RUN):
        hashes = hashes * np.uint64(1_000_003) ^ rows[:, column].astype(np.uint64)
    return hashes


class AudioIndex:
    """What to look for: every 4-sample run of the input as raw bytes, every 8-sample run as
    numbers (both without the near-silent runs, which any data may contain)."""

    def __init__(self, pcm: np.ndarray):
        self.words = _pcm_windows(pcm)
        loud = np.lib.stride_tricks.sliding_window_view(np.abs(pcm.astype(np.int32)), RUN)
        self.runs = np.unique(_run_hashes(pcm)[loud.max(axis=1) >= 16])


def assert_no_audio(blob: bytes, index: AudioIndex) -> None:
    """No run of the input's samples in ``blob``: raw 16-bit, as numbers in text (integers or
    floats in full scale), base64 or hex."""
    assert not _binary_runs(blob, index.words), "raw samples written"
    for match in NUMBERS.finditer(blob):
        values = np.array([float(v) for v in re.findall(rb"-?\d+(?:\.\d+)?", match.group())])
        for scale in (1.0, 32767.0, 32768.0):
            ints = np.round(values * scale)
            if np.abs(ints).max() > 32768:
                continue
            hashes = _run_hashes(ints.astype(np.int64))
            found = np.minimum(np.searchsorted(index.runs, hashes), len(index.runs) - 1)
            assert not (index.runs[found] == hashes).any(), (
                f"samples written as numbers: {match.group()[:60]!r}")
    decoded = []
    for token in BASE64.findall(blob):
        for k in range(4):
            part = token[k:]
            part = part[:len(part) // 4 * 4]
            try:
                decoded.append(base64.b64decode(
                    part, altchars=b"-_" if b"-" in part or b"_" in part else None))
            except ValueError:
                continue
    assert not _token_runs(decoded, index.words), "samples written in base64"
    decoded = []
    for token in HEX.findall(blob):
        for k in range(2):
            part = token[k:]
            decoded.append(bytes.fromhex(part[:len(part) // 2 * 2].decode()))
    assert not _token_runs(decoded, index.words), "samples written in hex"


def _everything_written(since: float, skip: Path, caplog) -> bytes:
    """Every row of every table (journal included), every log line, every Redis value and every
    file written under the project's folders since ``since`` (Redis keys: those touched since,
    by their idle time)."""
    chunks = [serializers.serialize("json", model.objects.all()).encode()
              for model in apps.get_models()]
    chunks.append(caplog.text.encode())
    if django_settings.REDIS_URL:
        import redis

        server = redis.Redis.from_url(django_settings.REDIS_URL)
        recent = time.time() - since + 1
        for key in server.scan_iter(count=1000):
            if (server.object("idletime", key) or 0) > recent:
                continue
            kind = server.type(key)
            if kind == b"string":
                chunks.append(server.get(key) or b"")
            elif kind == b"list":
                chunks.extend(server.lrange(key, 0, -1))
            elif kind == b"zset":
                chunks.extend(server.zrange(key, 0, -1))
            elif kind == b"hash":
                chunks.extend(server.hgetall(key).values())
    for root in {Path(django_settings.VAR_DIR), Path(django_settings.MEDIA_ROOT), skip.parent}:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.is_file() and path != skip and path.stat().st_mtime >= since:
                chunks.append(path.read_bytes())
    return b"\n".join(chunks)


def test_a_minute_of_audio_leaves_nothing_of_itself_anywhere(make_sensor, recording, audio_index,
                                                              caplog):
    path, pcm = recording
    caplog.set_level(logging.DEBUG)
    since = time.time() - 1
    sensor = make_sensor("son-prive", calibration_db=100.0)
    result = run_file(sensor, path)
    assert result.events >= 2 and result.levels >= 6  # the whole path ran
    blob = _everything_written(since, path, caplog)
    assert b"detonation" in blob and b"laeq_db" in blob
    assert_no_audio(blob, audio_index)


@pytest.mark.parametrize("leak", ["raw", "json", "floats", "base64", "hex"])
def test_the_audio_detector_catches_each_way_of_writing_samples(recording, audio_index, leak):
    """The proof above cannot pass by blindness: each encoding of a few samples is caught."""
    pcm = recording[1]
    start = int(np.argmax(np.abs(pcm)))  # a loud part
    run = pcm[start:start + 12]
    written = {
        "raw": run.astype("<i2").tobytes(),
        "json": json.dumps(run.tolist()).encode(),
        "floats": " ".join(f"{v / 32768:.6f}" for v in run).encode(),
        "base64": base64.b64encode(pcm[start:start + 12].astype("<i2").tobytes()),
        "hex": pcm[start:start + 12].astype("<i2").tobytes().hex().encode(),
    }[leak]
    with pytest.raises(AssertionError):
        assert_no_audio(b'{"journal": "x", "payload": ' + written + b"}", audio_index)


# --- an edge sensor over MQTT ---------------------------------------------------------------------

def _malformed(now: float) -> list[bytes]:
    good = encode_frame(now, np.zeros(400, np.float32))
    return [
        b"not a frame at all",
        b"XXXX" + good[4:],                                   # unknown format
        good[:HEADER.size + 10],                              # truncated
        encode_frame(now, np.zeros(400, np.float32), sample_rate=8000),  # wrong rate
        HEADER.pack(MAGIC, RATE, 0, 1, 1, 1, 4) + b"\0" * 8,  # no clock
    ]


def test_mqtt_frames_are_analysed_and_malformed_ones_counted(make_sensor, mqtt, settings):
    settings.SOUND_MQTT_IDLE_SECONDS = 3
    sensor = make_sensor("son-edge", source=SoundSensor.Source.MQTT, stream_url="")
    rng = np.random.default_rng(5)
    clip = synth.scale_to_level(synth.background(rng, "traffic", 8, RATE), 58.0, RATE)
    scream = synth.scream(np.random.default_rng(SCREAM_SEED), RATE)
    clip = synth.mix(scream, clip, 20.0, offset=3 * RATE, rng=rng)
    name = topic(settings.MQTT_TOPIC_PREFIX, sensor.device.address, "audio")
    stop = threading.Event()

    def publish():
        publisher = mqtt_client(settings.MQTT_URL, "test-edge")
        publisher.loop_start()
        t = time.time() - 60
        time.sleep(0.5)  # the analysis subscribes first
        block = RATE // 4
        for number, start in enumerate(range(0, len(clip), block)):
            publisher.publish(name, encode_frame(t, clip[start:start + block], sequence=number))
            t += block / RATE
            if number == 4:
                for payload in _malformed(t):
                    publisher.publish(name, payload)
            time.sleep(0.06)
        quiet = synth.scale_to_level(synth.background(rng, "babble", 1, RATE), 55.0, RATE)
        while not stop.is_set():  # the sensor keeps sending its street's sound
            publisher.publish(name, encode_frame(t, quiet[:block]))
            t += block / RATE
            time.sleep(0.06)
        publisher.loop_stop()
        publisher.disconnect()

    sender = threading.Thread(target=publish, daemon=True)
    sender.start()
    try:
        [(sensor_id, token)] = sound.sensors_due()
        result = analyse_window(sensor_id, token=token, seconds=5)
    finally:
        stop.set()
        sender.join(5)
    assert result.stopped == "" and result.rejected == 5
    sensor.refresh_from_db()
    assert sensor.rejected_frames == 5 and sensor.failures == 0
    assert list(SoundEvent.objects.values_list("kind", flat=True)) == ["scream"]


def test_an_mqtt_sensor_that_falls_silent_fails_and_is_retried(make_sensor, mqtt, settings):
    settings.SOUND_MQTT_IDLE_SECONDS = 1
    sensor = make_sensor("son-muet", source=SoundSensor.Source.MQTT, stream_url="")
    [(sensor_id, token)] = sound.sensors_due()
    result = analyse_window(sensor_id, token=token, seconds=5)
    assert result.stopped == "source"
    sensor.refresh_from_db()
    assert sensor.failures == 1 and "Aucune trame audio" in sensor.last_error


def test_a_sensor_reconnects_once_its_stream_is_back(make_sensor, recording, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SOUND_RETRY_BACKOFF_SECONDS = (10.0,)
    sensor = make_sensor("son-retour", heartbeat_seconds=60)
    [(sensor_id, token)] = sound.sensors_due()
    assert analyse_window(sensor_id, token=token, realtime=False).stopped == "source"
    SoundSensor.objects.filter(pk=sensor.pk).update(stream_url=str(recording[0]))
    [(sensor_id, token)] = sound.sensors_due(now=timezone.now() + timedelta(seconds=11))
    result = analyse_window(sensor_id, token=token, seconds=600, realtime=False)
    assert result.stopped == "" and result.seconds > 59
    sensor.refresh_from_db()
    assert sensor.failures == 0 and sensor.last_error == "" and sensor.retry_at is None


def test_a_window_queues_the_next_one_on_the_sound_queue(make_sensor, recording, needs_redis,
                                                         settings):
    """The task runs a window, then sends the next to the ``sound`` queue of the real broker;
    the beat starts sensors nobody analyses (a lost worker's lease runs out)."""
    from datetime import timedelta

    from django.utils import timezone
    from kombu import Queue

    from controlroom.celery import app
    from devices import tasks

    settings.SOUND_WINDOW_SECONDS = 1.0
    sensor = make_sensor("son-queue", stream_url=str(recording[0]))
    queue_name = f"sound-test-{sensor.pk}-{timezone.now().timestamp():.0f}"

    def routes(table):  # the router is built once from the routes: rebuild it
        app.conf.task_routes = table
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)

    routes({"devices.analyse_sound_sensor": {"queue": queue_name}})
    try:
        with app.connection_for_write() as connection:
            queue = connection.SimpleQueue(Queue(queue_name, routing_key=queue_name))
            [(sensor_id, token)] = sound.sensors_due()
            outcome = tasks.analyse_sound_sensor.apply(args=[sensor_id, token]).get()
            assert outcome["seconds"] >= 1.0 and outcome["stopped"] == ""
            message = queue.get(timeout=5)
            assert message.headers["task"] == "devices.analyse_sound_sensor"
            assert message.payload[0] == [sensor_id, token]
            assert message.headers["expires"] is not None
            message.ack()
            SoundSensor.objects.filter(pk=sensor_id).update(
                lease_until=timezone.now() - timedelta(seconds=1))
            assert tasks.supervise_sound_sensors.apply().get() == 1
            restarted = queue.get(timeout=5)
            assert restarted.payload[0][0] == sensor_id and restarted.payload[0][1] != token
            restarted.ack()
            queue.queue.delete()
            queue.close()
    finally:
        routes(settings.CELERY_TASK_ROUTES)
