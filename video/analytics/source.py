"""Frames from a camera stream or a video file, sampled down to the analysis rate.

A ``FrameSource`` yields ``(t, frame)``: ``t`` is in seconds since the first frame of the stream
(the frames' presentation timestamps for files, so that a file with dropped frames keeps its
real pace; the monotonic clock for live streams), and
``frame`` is BGR at the analysis size: the largest that fits ``size`` with the frame's own
aspect. Frames not needed for the target rate are only grabbed, never converted: what the
analysis does not look at costs as little as the stream allows.
"""

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

LIVE_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://",
                "srt://")


class SourceUnavailable(RuntimeError):
    """The stream cannot be opened or read, and retrying is over (or pointless, for a file)."""


@dataclass
class SourceStats:
    """Counters of one pass over the source; ``fps`` is the rate frames were delivered at."""

    frames_read: int = 0  # frames taken from the stream (grabbed), delivered or skipped
    frames_decoded: int = 0  # frames converted to BGR and delivered
    reconnections: int = 0
    source_fps: float = 0.0  # what the stream declares, 0 when unknown
    started: float | None = None  # clock time of the first frame
    last: float | None = None  # clock time of the latest delivered frame

    @property
    def fps(self) -> float:
        """Measured rate of delivered frames, in frames per second of the source's clock."""
        if self.started is None or self.last is None or self.last <= self.started:
            return 0.0
        return (self.frames_decoded - 1) / (self.last - self.started)


def is_live(url: str) -> bool:
    return url.lower().startswith(LIVE_SCHEMES)


class FrameSource:
    """Iterate ``(t, frame)`` over a stream or a file at no more than ``target_fps``.

    Live streams (rtsp, http, ...) that fail to open or stop delivering are reopened after the
    delays of ``reconnect_backoff`` (the last one repeats); after ``max_retries`` failed attempts
    in a row (``None``: never give up) ``SourceUnavailable`` is raised. A file that ends stops the
    iteration, or starts again with ``loop`` (``t`` keeps increasing). With ``realtime`` a file is
    paced at its own rate, as a camera would deliver it. ``start`` resumes a file where an earlier
    pass stopped (seconds of the stream, as ``t``; a looping file wraps around).
    """

    def __init__(self, url: str, *, target_fps: float, size: tuple[int, int] | None = (640, 360),
                 loop: bool = False, reconnect_backoff=(1, 2, 4, 8, 30),
                 max_retries: int | None = 5, realtime: bool = False, timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 capture_factory: Callable[[str], object] | None = None, start: float = 0.0):
        if target_fps <= 0:
            raise ValueError("La cadence d'analyse doit être positive.")
        self.url = str(url)
        self.target_fps = float(target_fps)
        self.size = tuple(size) if size else None
        self.loop = loop
        self.reconnect_backoff = tuple(reconnect_backoff) or (1,)
        self.max_retries = max_retries
        self.realtime = realtime
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.live = is_live(self.url)
        self.start = max(0.0, float(start))
        self._open_capture = capture_factory or self._ffmpeg_capture
        self.stats = SourceStats()

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        self.stats = SourceStats()
        if self.live:
            return self._live()
        return self._file()

    def frames(self, limit: int | None = None) -> Iterator[tuple[float, np.ndarray]]:
        """The first ``limit`` frames (all of them with ``None``)."""
        return islice(iter(self), limit)

    # --- files ---------------------------------------------------------------------------------

    def _file(self) -> Iterator[tuple[float, np.ndarray]]:
        if not Path(self.url).is_file():
            raise SourceUnavailable(f"Fichier vidéo introuvable : {self.url}")
        offset = 0.0  # duration of the passes already played, when looping
        next_due = self.start
        paced_from = None
        skip = self.start
        while True:
            capture = self._open(self.url)
            if capture is None:
                raise SourceUnavailable(f"Impossible d'ouvrir la vidéo : {self.url}")
            fps = _declared_fps(capture) or self.target_fps
            self.stats.source_fps = fps
            tolerance = 0.25 / fps
            index = 0
            if skip:
                index, offset = self._seek(capture, skip, fps)
                skip = 0.0
            clock = _Timestamps(fps, index)
            try:
                while capture.grab():
                    t = offset + clock.seconds(capture)
                    index += 1
                    self.stats.frames_read += 1
                    if t + tolerance < next_due:
                        continue
                    next_due = _next_due(next_due, t, self.target_fps)
                    ok, frame = capture.retrieve()
                    if not ok:
                        continue
                    if self.realtime:
                        paced_from = self._pace(paced_from, t)
                    yield t, self._deliver(frame)
            finally:
                capture.release()
            if index == 0:
                raise SourceUnavailable(f"Aucune image lisible dans la vidéo : {self.url}")
            if not self.loop:
                return
            offset += max(index / fps, clock.last + 1 / fps)

    def _seek(self, capture, start: float, fps: float) -> tuple[int, float]:
        """Move a file to ``start``: (index of the next frame in the file, offset of this pass)."""
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        wanted = round(start * fps)
        offset = 0.0
        if count > 0 and wanted >= count:
            if not self.loop:
                return count, 0.0
            offset = (wanted // count) * count / fps
            wanted %= count
        if wanted and not capture.set(cv2.CAP_PROP_POS_FRAMES, wanted):
            for _ in range(wanted):  # a container that cannot seek: read up to the frame
                if not capture.grab():
                    break
        return wanted, offset

    def _pace(self, paced_from: float | None, t: float) -> float:
        now = self.clock()
        if paced_from is None:
            return now - t
        delay = paced_from + t - now
        if delay > 0:
            self.sleep(delay)
        return paced_from

    # --- live streams --------------------------------------------------------------------------

    def _live(self) -> Iterator[tuple[float, np.ndarray]]:
        started = None
        next_due = 0.0
        failures = 0
        # Camera frames arrive with jitter: accept one a little early rather than skip it.
        tolerance = 0.25 / self.target_fps
        while True:
            capture = self._open(self.url)
            if capture is None:
                failures = self._wait_before_retry(failures, "ouverture impossible")
                continue
            try:
                while True:
                    if not capture.grab():
                        break
                    now = self.clock()
                    if started is None:
                        started = now
                    t = now - started
                    self.stats.frames_read += 1
                    failures = 0
                    # Grab every frame so the stream's buffer never lags behind real time.
                    if t + tolerance < next_due:
                        continue
                    next_due = _next_due(next_due, t, self.target_fps)
                    ok, frame = capture.retrieve()
                    if ok:
                        yield t, self._deliver(frame, now)
            finally:
                capture.release()
            failures = self._wait_before_retry(failures, "flux interrompu")

    def _wait_before_retry(self, failures: int, what: str) -> int:
        if self.max_retries is not None and failures >= self.max_retries:
            raise SourceUnavailable(f"Flux vidéo indisponible ({what}, {failures} tentatives de "
                                    f"reconnexion) : {self.url}")
        self.sleep(self.reconnect_backoff[min(failures, len(self.reconnect_backoff) - 1)])
        self.stats.reconnections += 1
        return failures + 1

    # --- common --------------------------------------------------------------------------------

    def _ffmpeg_capture(self, url: str):
        if self.live:
            milliseconds = int(self.timeout * 1000)
            return cv2.VideoCapture(url, cv2.CAP_FFMPEG, [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, milliseconds,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC, milliseconds])
        return cv2.VideoCapture(url, cv2.CAP_FFMPEG)

    def _open(self, url: str):
        capture = self._open_capture(url)
        if capture is None or not capture.isOpened():
            if capture is not None:
                capture.release()
            return None
        return capture

    def _deliver(self, frame: np.ndarray, now: float | None = None) -> np.ndarray:
        now = self.clock() if now is None else now
        if self.stats.started is None:
            self.stats.started = now
        self.stats.last = now
        self.stats.frames_decoded += 1
        if self.size:
            size = analysis_size((frame.shape[1], frame.shape[0]), self.size)
            if (frame.shape[1], frame.shape[0]) != size:
                shrinking = frame.shape[1] > size[0]
                frame = cv2.resize(frame, size,
                                   interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        return frame

    def __repr__(self) -> str:
        return f"FrameSource({self.url!r}, target_fps={self.target_fps})"


class _Timestamps:
    """Seconds of each frame of a file from its presentation timestamp, where the container
    gives one that increases; else (missing, or going back) one frame period after the last."""

    def __init__(self, fps: float, index: int):
        self.period = 1 / fps
        self.last = (index - 1) * self.period  # the frame before the first one read
        self._origin: float | None = None  # timestamp (ms) of time 0
        self._last_stamp = -math.inf

    def seconds(self, capture) -> float:
        stamp = capture.get(cv2.CAP_PROP_POS_MSEC)
        expected = self.last + self.period
        if stamp and math.isfinite(stamp) and stamp > self._last_stamp:
            if self._origin is None:
                self._origin = stamp - 1000 * expected
            t = (stamp - self._origin) / 1000
        else:
            t = expected
        self._last_stamp = stamp if stamp and math.isfinite(stamp) else self._last_stamp
        self.last = max(t, self.last + 1e-6)
        return self.last


def analysis_size(frame_size: tuple[int, int],
                  box: tuple[int, int] = (640, 360)) -> tuple[int, int]:
    """The size a frame is analysed at: the largest that fits ``box`` with the frame's own
    aspect (a 4:3 camera is not stretched to 16:9), never larger than the frame."""
    width, height = frame_size
    if width <= 0 or height <= 0:
        return tuple(box)
    ratio = min(box[0] / width, box[1] / height, 1.0)
    return max(2, round(width * ratio / 2) * 2), max(2, round(height * ratio / 2) * 2)


def _declared_fps(capture) -> float:
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if fps and math.isfinite(fps) and 0 < fps < 1000 else 0.0


def _next_due(previous_due: float, t: float, target_fps: float) -> float:
    """When the next frame should be taken; never lets a late stream catch up in a burst."""
    period = 1.0 / target_fps
    due = previous_due + period
    return due if due > t else t + period
