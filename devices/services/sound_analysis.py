"""A sound sensor's analysis as the workers run it: its audio read for one bounded window, its
levels and events handed to the services. Audio lives only in the analyser's few seconds of
memory and in the block being analysed.

The analyser (filters, background estimates, a music episode in progress) is kept in the worker
between windows of the same sensor, and rebuilt when the sensor's settings change.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from controlroom import leases
from devices.acoustics.classifier import OnnxClassifier
from devices.acoustics.detectors import Analyser, MusicSettings
from devices.acoustics.source import MqttSource, StreamError, StreamSource
from devices.acoustics.types import KINDS
from devices.drivers import topic
from devices.models import SoundSensor
from devices.services import sound

logger = logging.getLogger(__name__)

STATE_EVERY_SECONDS = 5.0  # how often a running window records the sensor's state
_analysers: dict[int, tuple[tuple, Analyser]] = {}
_resume_at: dict[int, float] = {}  # where each sensor's file stopped, in sensor time
_analysers_lock = threading.Lock()  # the sound worker runs a pool of threads


def _settings_stamp(sensor: SoundSensor) -> tuple:
    return (sensor.sample_rate, sensor.calibration_db, tuple(sensor.detections or KINDS),
            sensor.music_threshold_db, sensor.music_min_seconds, str(sensor.night_start),
            str(sensor.night_end), repr(settings.SOUND_CLASSIFIER))


def build_analyser(sensor: SoundSensor) -> Analyser:
    """The analyser of the sensor's settings (ValueError when they are inconsistent)."""
    classifier = None
    if settings.SOUND_CLASSIFIER:
        config = settings.SOUND_CLASSIFIER
        classifier = OnnxClassifier(config["path"], config["labels"],
                                    window_seconds=config.get("window_seconds", 1.0),
                                    threshold=config.get("threshold", 0.5))
    music = MusicSettings(threshold_db=sensor.music_threshold_db,
                          min_seconds=float(sensor.music_min_seconds), active=sound.night(sensor))
    return Analyser(sensor.sample_rate, calibration_db=sensor.calibration_db,
                    kinds=sensor.detections or KINDS, music=music, classifier=classifier)


def _analyser_for(sensor: SoundSensor) -> Analyser:
    stamp = _settings_stamp(sensor)
    with _analysers_lock:
        cached = _analysers.get(sensor.pk)
        if cached is None or cached[0] != stamp:
            cached = (stamp, build_analyser(sensor))
            _analysers[sensor.pk] = cached
        return cached[1]


def forget(sensor_id: int) -> None:
    with _analysers_lock:
        _analysers.pop(sensor_id, None)
        _resume_at.pop(sensor_id, None)


def source_for(sensor: SoundSensor, *, realtime: bool = True):
    if sensor.source == SoundSensor.Source.MQTT:
        if not settings.MQTT_URL:
            raise StreamError("Aucun courtier MQTT n'est configuré (MQTT_URL).")
        return MqttSource(settings.MQTT_URL,
                          topic(settings.MQTT_TOPIC_PREFIX, sensor.device.address, "audio"),
                          sample_rate=sensor.sample_rate,
                          idle_seconds=settings.SOUND_MQTT_IDLE_SECONDS,
                          name=f"sound-{sensor.device.code}")
    with _analysers_lock:
        resume = _resume_at.get(sensor.pk)
    return StreamSource(sensor.stream_url, sample_rate=sensor.sample_rate, realtime=realtime,
                        resume=resume)


class LevelPeriods:
    """Seconds of levels gathered into periods of ``SOUND_LEVEL_SECONDS`` (sensor time): the
    period's LAeq (energy mean) and its LAFmax."""

    def __init__(self, seconds: int):
        self.seconds = max(1, seconds)
        self.start: float | None = None
        self.energy = 0.0
        self.count = 0
        self.lafmax = -math.inf

    def add(self, levels) -> list[tuple[datetime, float, float]]:
        done = []
        for level in levels:
            start = math.floor(level.start / self.seconds) * self.seconds
            if self.start is not None and start != self.start:
                done += self.close()
            self.start = start
            self.energy += 10 ** (level.laeq / 10)
            self.count += 1
            self.lafmax = max(self.lafmax, level.lafmax)
        return done

    def close(self) -> list[tuple[datetime, float, float]]:
        if not self.count:
            return []
        period = (datetime.fromtimestamp(self.start + self.seconds, tz=UTC),
                  10 * math.log10(self.energy / self.count), self.lafmax)
        self.start, self.energy, self.count, self.lafmax = None, 0.0, 0, -math.inf
        return [period]


@dataclass
class WindowResult:
    blocks: int = 0
    seconds: float = 0.0   # of audio analysed
    events: int = 0
    levels: int = 0
    rejected: int = 0
    stopped: str = ""      # why the loop stops: "lease", "hours", "source", "configuration"


def analyse_window(sensor_id: int, *, token: str, seconds: float | None = None,
                   realtime: bool = True, source=None) -> WindowResult:
    """Analyse ``seconds`` of the sensor's audio if ``token`` holds its lease. A file read
    once (``realtime`` false) is analysed to its end, and its last events decided."""
    seconds = settings.SOUND_WINDOW_SECONDS if seconds is None else seconds
    result = WindowResult()
    if not leases.extend(SoundSensor, pk=sensor_id, token=token, seconds=seconds):
        result.stopped = "lease"
        return result
    sensor = SoundSensor.objects.select_related("device").get(pk=sensor_id)
    if not sensor.device.active or not sound.listening(sensor):
        leases.release(SoundSensor, pk=sensor_id, token=token)
        result.stopped = "hours"
        return result
    try:
        analyser = _analyser_for(sensor)
    except ValueError as error:
        sound.sensor_failed(sensor=sensor, error=str(error))
        result.stopped = "configuration"
        return result
    periods = LevelPeriods(settings.SOUND_LEVEL_SECONDS)
    started = last_state = time.monotonic()
    reported_rejects = 0
    try:
        source = source or source_for(sensor, realtime=realtime)
        for t, samples in source:
            levels, events = analyser.feed(t, samples)
            with _analysers_lock:
                _resume_at[sensor.pk] = t + len(samples) / sensor.sample_rate
            result.blocks += 1
            result.seconds += len(samples) / sensor.sample_rate
            _hand_over(sensor, periods.add(levels), events, result)
            now = time.monotonic()
            if now - last_state >= STATE_EVERY_SECONDS or now - started >= seconds:
                last_state = now
                rejected = source.stats.rejected - reported_rejects
                reported_rejects += rejected
                sound.sensor_heard(sensor=sensor, rejected=rejected)
                if not leases.extend(SoundSensor, pk=sensor.pk, token=token,
                                     seconds=seconds - (now - started)):
                    result.stopped = "lease"
                    break
                if not sound.listening(sensor):
                    result.stopped = "hours"
                    break
            if now - started >= seconds:
                break
        else:
            if not realtime:
                levels, events = analyser.flush()
                _hand_over(sensor, periods.add(levels) + periods.close(), events, result)
    except StreamError as error:
        logger.warning("Sound sensor %s: %s", sensor.device.code, error)
        sound.sensor_failed(sensor=sensor, error=str(error))
        forget(sensor.pk)
        result.stopped = "source"
    finally:
        if source is not None:
            result.rejected = source.stats.rejected
            sound.frames_rejected(sensor=sensor, count=source.stats.rejected - reported_rejects)
    if result.blocks and result.stopped != "source":
        sound.sensor_heard(sensor=sensor)
    if result.stopped:
        leases.release(SoundSensor, pk=sensor.pk, token=token)
    return result


def _hand_over(sensor, periods, events, result: WindowResult) -> None:
    for at, laeq, lafmax in periods:
        sound.levels_record(sensor=sensor, laeq=laeq, lafmax=lafmax,
                            at=min(at, timezone.now()))
        result.levels += 1
    for event in events:
        sound.event_record(sensor=sensor, event=event)
        result.events += 1
