"""A camera's analysis as the workers run it: the pipeline built from the camera's settings, run
over one bounded window of its stream, its events and statistics handed to the services.

A window opens the stream (a file resumes where the previous window stopped), analyses it for
``VIDEO_WINDOW_SECONDS`` and returns. The pipeline (background model, tracks, rule timers) is
kept in the worker process between windows of the same camera, and rebuilt when the camera's
settings change or its window lands on another worker.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time

import cv2
from django.conf import settings
from django.utils import timezone

from video import live, services
from video.analytics.detectors import MotionBlobDetector, detector_from_settings
from video.analytics.motion import MotionGate
from video.analytics.pipeline import Pipeline
from video.analytics.privacy import privacy_boxes, sanitise
from video.analytics.rules import LineCrossing, Schedule, build_rule
from video.analytics.source import FrameSource, SourceUnavailable, is_live
from video.analytics.tracking import Tracker
from video.analytics.types import Event, FrameAnalysis, Zone
from video.models import Camera

logger = logging.getLogger(__name__)

STATE_EVERY_SECONDS = 5.0  # how often a running window records the camera's state
_pipelines: dict[int, tuple[datetime, Pipeline]] = {}


# --- configuration ------------------------------------------------------------------------------

def _schedule(config) -> Schedule | None:
    if not config:
        return None
    if not isinstance(config, dict):
        raise ValueError("Horaire : un objet {start, end, days} est attendu.")
    try:
        start = clock_time.fromisoformat(str(config["start"]))
        end = clock_time.fromisoformat(str(config["end"]))
    except (KeyError, ValueError) as error:
        raise ValueError("Horaire : « start » et « end » au format HH:MM.") from error
    days = config.get("days", list(range(7)))
    if not isinstance(days, list) or not all(isinstance(d, int) for d in days):
        raise ValueError("Horaire : les jours sont une liste de 0 (lundi) à 6 (dimanche).")
    return Schedule(start, end, frozenset(days))


def camera_zones(camera: Camera) -> dict[str, Zone]:
    zones = {}
    for zone in camera.zones or []:
        direction = zone.get("direction")
        zones[zone["name"]] = Zone(
            name=zone["name"], points=tuple(tuple(p) for p in zone["points"]),
            kind=zone.get("kind", "zone"), direction=tuple(direction) if direction else None)
    return zones


def camera_masks(camera: Camera) -> list[Zone]:
    return [Zone(name=f"masque {number}", points=tuple(tuple(p) for p in polygon), kind="mask")
            for number, polygon in enumerate(camera.masks or [], 1)]


def camera_rules(camera: Camera) -> list:
    """The camera's rules, built from its settings; ``ValueError`` (French) when they are wrong."""
    zones = camera_zones(camera)
    rules = []
    for name, config in (camera.analytics or {}).items():
        config = config or {}
        try:
            chosen = [zones[zone] for zone in config.get("zones", [])]
        except KeyError as error:
            raise ValueError(f"« {name} » : zone inconnue {error}.") from error
        params = config.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError(f"« {name} » : les paramètres sont un objet JSON.")
        try:
            rules.append(build_rule(name, params, chosen, _schedule(config.get("schedule"))))
        except (TypeError, ValueError) as error:
            raise ValueError(f"« {name} » : {error}") from error
    return rules


def build_pipeline(camera: Camera) -> Pipeline:
    rules = camera_rules(camera)
    if camera.detector == Camera.Detector.MOTION:
        detector, every, revisit = MotionBlobDetector(label="object", min_area=80), 1, 0.0
    else:
        detector = detector_from_settings(settings.VIDEO_DETECTOR)
        every, revisit = settings.VIDEO_DETECT_EVERY, settings.VIDEO_DETECT_REVISIT
        if any(isinstance(rule, LineCrossing) for rule in rules):
            # Counting first: trusting people found counts fewer crossings (campus clip).
            revisit = 0.0
    return Pipeline(detector=detector, rules=rules, masks=camera_masks(camera),
                    zones=list(camera_zones(camera).values()),
                    motion=MotionGate(), tracker=Tracker(),
                    detect_every=every, revisit=revisit,
                    tz=timezone.get_default_timezone())


def _pipeline_for(camera: Camera) -> Pipeline:
    cached = _pipelines.get(camera.pk)
    if cached is None or cached[0] != camera.updated_at:
        cached = (camera.updated_at, build_pipeline(camera))
        _pipelines[camera.pk] = cached
    return cached[1]


def forget(camera_id: int) -> None:
    _pipelines.pop(camera_id, None)


# --- statistics ---------------------------------------------------------------------------------

@dataclass
class Counts:
    samples: int = 0
    people_sum: int = 0
    people_max: int = 0
    forward: int = 0
    backward: int = 0


@dataclass
class Statistics:
    """People per zone (sampled once a second) and line crossings, per period."""

    minutes: int
    rows: dict[tuple[str, datetime], Counts] = field(default_factory=dict)
    _last_sample: float | None = None

    def period(self, moment: datetime) -> datetime:
        moment = moment.astimezone(timezone.get_default_timezone())
        return moment.replace(minute=moment.minute - moment.minute % self.minutes, second=0,
                              microsecond=0)

    def observe(self, analysis: FrameAnalysis, zones: list[Zone]) -> None:
        if self._last_sample is not None and analysis.t - self._last_sample < 1.0:
            return
        self._last_sample = analysis.t
        width, height = analysis.size
        period = self.period(analysis.wall_time)
        for zone in zones:
            if zone.kind != "zone":
                continue
            polygon = zone.pixels(width, height).astype("float32")
            count = sum(1 for track in analysis.tracks if track.missed == 0
                        and _inside(polygon, track.box.bottom_center))
            counts = self.rows.setdefault((zone.name, period), Counts())
            counts.samples += 1
            counts.people_sum += count
            counts.people_max = max(counts.people_max, count)

    def crossing(self, event: Event) -> None:
        counts = self.rows.setdefault((event.zone, self.period(event.wall_time)), Counts())
        if event.details.get("direction") == "b_to_a":
            counts.backward += 1
        else:
            counts.forward += 1


def _inside(polygon, point) -> bool:
    return cv2.pointPolygonTest(polygon, (float(point[0]), float(point[1])), False) >= 0


# --- one window -----------------------------------------------------------------------------------

@dataclass
class WindowResult:
    frames: int = 0
    events: int = 0
    alerts: int = 0
    stopped: str = ""  # why the loop should not go on: "" to go on


def event_key(camera: Camera, event: Event, live_stream: bool) -> str:
    """The same event, recorded twice (a window analysed again), gets the same key: for files,
    the position in the stream; for live streams, the frame's time."""
    moment = f"{event.wall_time.timestamp():.2f}" if live_stream else f"{event.t:.2f}"
    raw = f"{camera.pk}:{event.rule}:{event.zone}:{moment}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def analyse_window(camera_id: int, *, token: str, seconds: float | None = None,
                   realtime: bool = True, limit: int | None = None) -> WindowResult:
    """Analyse ``seconds`` of the camera's stream (``limit`` frames at most) if ``token`` holds
    its lease. Files are paced at their own rate unless ``realtime`` is false."""
    seconds = settings.VIDEO_WINDOW_SECONDS if seconds is None else seconds
    result = WindowResult()
    if not services.lease_extend(camera_id=camera_id, token=token, seconds=seconds):
        result.stopped = "lease"
        return result
    camera = Camera.objects.get(pk=camera_id)
    try:
        pipeline = _pipeline_for(camera)
    except ValueError as error:
        services.camera_failed(camera_id=camera.pk, error=str(error))
        result.stopped = "configuration"
        return result
    live_stream = is_live(camera.stream_url)
    source = FrameSource(
        camera.stream_url, target_fps=camera.target_fps, size=settings.VIDEO_ANALYSIS_SIZE,
        loop=not live_stream, realtime=realtime, start=0.0 if live_stream else camera.position,
        max_retries=2, reconnect_backoff=(1, 2))
    statistics = Statistics(settings.VIDEO_STATISTICS_MINUTES)
    started = time.monotonic()
    last_state = started
    last_live = 0.0
    position = camera.position
    try:
        for t, frame in source:
            analysis, events = pipeline.process(t, frame, wall_time=timezone.localtime())
            result.frames += 1
            position = t + 1.0 / camera.target_fps  # where the next window takes over
            statistics.observe(analysis, pipeline.zones)
            for event in events:
                if event.statistic:
                    statistics.crossing(event)
                    continue
                recorded = services.event_record(
                    camera=camera, event=event, frame=analysis.frame,
                    persons=privacy_boxes(analysis), key=event_key(camera, event, live_stream))
                result.events += 1
                result.alerts += recorded.alert_id is not None
            now = time.monotonic()
            if now - last_live >= 1.0 / settings.VIDEO_LIVE_FPS and live.watched(camera.pk):
                # Masks are already applied; faces and whatever moves are blurred too.
                shown = sanitise(analysis.frame, masks=pipeline.masks,
                                 persons=privacy_boxes(analysis),
                                 blur_persons=settings.VIDEO_BLUR_PERSONS)
                live.publish(camera.pk, live.encode(shown))
                last_live = now
            if (now - last_state >= STATE_EVERY_SECONDS or now - started >= seconds
                    or result.frames == limit):
                last_state = now
                services.camera_frames_seen(camera_id=camera.pk, fps=source.stats.fps,
                                            position=None if live_stream else position)
                if not services.lease_extend(camera_id=camera.pk, token=token,
                                             seconds=seconds - (now - started)):
                    result.stopped = "lease"
                    break
            if now - started >= seconds or result.frames == limit:
                break
    except SourceUnavailable as error:
        logger.warning("Camera %s: %s", camera.code, error)
        services.camera_failed(camera_id=camera.pk, error=str(error))
        forget(camera.pk)
        result.stopped = "source"
    finally:
        services.statistics_add(camera_id=camera.pk, rows=statistics.rows)
    if result.frames and not result.stopped:
        services.camera_frames_seen(camera_id=camera.pk, fps=source.stats.fps,
                                    position=None if live_stream else position)
    if result.stopped:
        services.lease_release(camera_id=camera.pk, token=token)
    return result


def camera_snapshot(camera: Camera) -> bytes | None:
    """One image read from the camera's stream now, masks applied and faces blurred, as a JPEG:
    zones can be drawn before the camera's first analysis. None when the stream gives nothing
    within a few seconds."""
    source = FrameSource(camera.stream_url, target_fps=1.0, max_retries=1,
                         reconnect_backoff=(0,), timeout=5.0)
    try:
        for _t, frame in source.frames(1):
            return live.encode(sanitise(frame, masks=camera_masks(camera), blur_persons=False))
    except (SourceUnavailable, OSError, ValueError, RuntimeError) as error:
        logger.info("No snapshot from camera %s: %s", camera.code, error)
    return None
