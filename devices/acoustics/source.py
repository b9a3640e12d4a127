"""Where a sensor's audio comes from: a stream read through FFmpeg (PyAV), or PCM frames an edge
sensor publishes over MQTT. Both give blocks of float samples with their sensor time.

Nothing is ever written: blocks are handed to the analysis and dropped.

Times. An edge sensor stamps its frames with its own synchronised clock. A network stream is
stamped on reception (the first sample is "now", then samples are counted; a stall re-anchors
the count, which the analysis sees as a gap). A file, used for demonstrations and tests, loops
in step with the wall clock: at time ``t`` it plays at ``t`` modulo its duration, so several
files of one duration play as one synchronised recording, as real sensors would hear a scene.
"""

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from .frames import FrameError, decode_frame

logger = logging.getLogger(__name__)

LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
STALL_SECONDS = 0.5  # a network stream this far behind the clock is re-anchored


class StreamError(Exception):
    """The audio cannot be read (message in French, shown to the administrator)."""


@dataclass
class SourceStats:
    blocks: int = 0
    samples: int = 0
    rejected: int = 0                  # frames refused (malformed, late, wrong rate)
    reasons: dict | None = None        # reason code -> count

    def reject(self, reason: str) -> None:
        self.rejected += 1
        self.reasons = self.reasons or {}
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def is_file(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/"))


def _path(url: str) -> str:
    return urlsplit(url).path if url.lower().startswith("file:") else url


class StreamSource:
    """Audio of ``url`` (RTSP, HTTP, a file…) as (time, samples) blocks of ``block_seconds``.

    ``realtime`` paces a file at its own rate, looped and in step with the clock; otherwise a
    file is read once, as fast as possible, from ``start`` (its time, default now). ``resume``
    is where a looping file's previous reading stopped: the new one carries on from there, so
    the analysis sees one unbroken stream (if it is no more than ``RESUME_SECONDS`` behind).
    """

    RESUME_SECONDS = 30.0

    def __init__(self, url: str, *, sample_rate: int = 16000, block_seconds: float = 0.25,
                 realtime: bool = True, start: float | None = None,
                 resume: float | None = None,
                 clock: Callable[[], float] = time.time, timeout: float = 10.0):
        self.url = url
        self.sample_rate = sample_rate
        self.block = max(1, round(block_seconds * sample_rate))
        self.realtime = realtime
        self.start = start
        self.resume = resume
        self.clock = clock
        self.timeout = timeout
        self.stats = SourceStats()
        self._container = None

    # -- opening -----------------------------------------------------------------------------

    def _open(self):
        import av

        options = {"rtsp_transport": "tcp"} if self.url.lower().startswith("rtsp") else {}
        try:
            # Tags are not ours to read: a title in Latin-1 (common in WAV files) must not make
            # the audio unreadable.
            container = av.open(_path(self.url) if is_file(self.url) else self.url,
                                options=options, timeout=(self.timeout, self.timeout),
                                metadata_errors="replace")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise StreamError(f"Flux audio injoignable : {_reason(error)}") from None
        if not container.streams.audio:
            container.close()
            raise StreamError("Le flux ne contient pas de piste audio.")
        self._container = container
        return container

    def _frames(self, container, skip_seconds: float = 0.0) -> Iterator[np.ndarray]:
        """Decoded mono float32 samples at ``sample_rate``, from ``skip_seconds`` on."""
        import av

        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
        if skip_seconds > 0:
            container.seek(int(skip_seconds * 1_000_000))
        skip = None
        try:
            for frame in container.decode(stream):
                if skip is None:
                    # A seek lands on a packet boundary: drop what comes before the position.
                    begun = frame.time if frame.time is not None else 0.0
                    skip = max(0, round((skip_seconds - begun) * self.sample_rate))
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    if skip:
                        cut = min(skip, len(samples))
                        samples, skip = samples[cut:], skip - cut
                    if len(samples):
                        yield samples
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        except (av.FFmpegError, OSError) as error:
            raise StreamError(f"Flux audio interrompu : {_reason(error)}") from None

    @staticmethod
    def _duration(container) -> float:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration:
            return container.duration / 1_000_000
        raise StreamError("Durée du fichier audio inconnue.")

    # -- blocks ------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        if is_file(self.url):
            if not Path(_path(self.url)).is_file():
                raise StreamError(f"Fichier audio introuvable : {Path(_path(self.url)).name}")
            chunks = self._file_chunks() if self.realtime else self._once()
        else:
            chunks = self._live_chunks()
        try:
            yield from self._blocks(chunks)
        finally:
            self.close()

    def _once(self) -> Iterator[tuple[float, np.ndarray]]:
        t = self.clock() if self.start is None else self.start
        for samples in self._frames(self._open()):
            yield t, samples
            t += len(samples) / self.sample_rate

    def _file_chunks(self) -> Iterator[tuple[float, np.ndarray]]:
        container = self._open()
        duration = self._duration(container)
        if duration <= 0:
            raise StreamError("Fichier audio vide.")
        now = self.clock()
        if self.resume is not None and 0 <= now - self.resume <= self.RESUME_SECONDS:
            now = self.resume  # behind the clock by the pause between readings: catch up
        loop_start = math.floor(now / duration) * duration
        skip = now - loop_start
        while True:
            t = loop_start + skip
            for samples in self._frames(container, skip):
                yield t, samples
                t += len(samples) / self.sample_rate
            container.close()
            loop_start += duration
            skip = 0.0
            container = self._open()

    def _live_chunks(self) -> Iterator[tuple[float, np.ndarray]]:
        t = None
        for samples in self._frames(self._open()):
            now = self.clock()
            span = len(samples) / self.sample_rate
            if t is None or now - (t + span) > STALL_SECONDS:
                t = now - span  # first samples, or after a stall: stamp on reception
            yield t, samples
            t += span

    def _blocks(self, chunks) -> Iterator[tuple[float, np.ndarray]]:
        """Re-cut into blocks of fixed length; a jump in time starts a new block."""
        pending: list[np.ndarray] = []
        size, begun, expected = 0, 0.0, None
        for t, samples in chunks:
            if expected is not None and abs(t - expected) > 0.5 / self.sample_rate and size:
                yield from self._emit(begun, np.concatenate(pending))
                pending, size = [], 0
            if not size:
                begun = t
            pending.append(samples)
            size += len(samples)
            expected = t + len(samples) / self.sample_rate
            while size >= self.block:
                joined = np.concatenate(pending)
                yield from self._emit(begun, joined[:self.block])
                rest = joined[self.block:]
                begun += self.block / self.sample_rate
                pending, size = ([rest] if len(rest) else []), len(rest)
        if size:
            yield from self._emit(begun, np.concatenate(pending))

    def _emit(self, t: float, samples: np.ndarray):
        if self.realtime and is_file(self.url):
            wait = t + len(samples) / self.sample_rate - self.clock()
            if wait > 0:
                time.sleep(wait)
        self.stats.blocks += 1
        self.stats.samples += len(samples)
        yield t, samples

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class MqttSource:
    """PCM frames an edge sensor publishes on ``topic``, decoded and checked.

    Malformed frames, frames at another rate, and frames older than what was already analysed
    are refused and counted (``stats``), never half-used. The queue holds a few seconds: a
    backlog beyond it drops the oldest frames. No frame for ``idle_seconds``: StreamError.
    """

    def __init__(self, url: str, topic: str, *, sample_rate: int = 16000,
                 idle_seconds: float = 10.0, backlog_seconds: float = 8.0, name: str = "sound"):
        self.url = url
        self.topic = topic
        self.sample_rate = sample_rate
        self.idle_seconds = idle_seconds
        self.backlog_seconds = backlog_seconds
        self.name = name
        self.stats = SourceStats()
        self._queue: queue.Queue = queue.Queue()
        self._client = None
        self._stop = threading.Event()

    def _connect(self):
        from devices.drivers import DriverUnavailable
        from devices.drivers.mqtt import client

        subscribed = threading.Event()
        try:
            mq = client(self.url, f"controlroom-{self.name}")
        except DriverUnavailable as error:
            raise StreamError(str(error)) from None
        mq.on_subscribe = lambda *args: subscribed.set()
        mq.on_message = lambda mq, userdata, message: self._queue.put(message.payload)
        mq.loop_start()
        mq.subscribe(self.topic, qos=0)
        if not subscribed.wait(self.idle_seconds):
            mq.loop_stop()
            mq.disconnect()
            raise StreamError("Le courtier MQTT ne répond pas.")
        self._client = mq

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        self._connect()
        end = None
        last = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    payload = self._queue.get(timeout=0.5)
                except queue.Empty:
                    if time.monotonic() - last > self.idle_seconds:
                        raise StreamError(f"Aucune trame audio reçue depuis "
                                          f"{self.idle_seconds:.0f} s.") from None
                    continue
                self._drop_backlog()
                try:
                    frame = decode_frame(payload, expected_rate=self.sample_rate)
                except FrameError as error:
                    self.stats.reject(error.reason)
                    logger.info("Sound frame refused on %s: %s", self.topic, error.reason)
                    continue
                if end is not None and frame.t0 < end - 0.001:
                    self.stats.reject("late")
                    continue
                last = time.monotonic()
                end = frame.t0 + frame.duration
                self.stats.blocks += 1
                self.stats.samples += len(frame.samples)
                yield frame.t0, frame.samples
        finally:
            self.close()

    def _drop_backlog(self) -> None:
        """Frames of about 0.1–1 s: keep the queue to a few seconds' worth."""
        while self._queue.qsize() > max(8, int(self.backlog_seconds * 4)):
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self.stats.reject("backlog")

    def close(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()
            self._client = None


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    # FFmpeg errors may quote the URL, which can carry credentials: keep the reason only.
    return text.split(":")[0].strip()[:200] or error.__class__.__name__
