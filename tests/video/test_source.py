"""Frame sources: sampling to the analysis rate, resizing, looping, reconnecting."""

import cv2
import numpy as np
import pytest

from video.analytics.source import FrameSource, SourceUnavailable, analysis_size
from video.analytics.synthetic import write_clip


def numbered_frames(count: int, size=(160, 120)):
    """Frames whose brightness tells their index (8 grey levels apart, survives JPEG)."""
    width, height = size
    for index in range(count):
        yield np.full((height, width, 3), 8 * index, np.uint8)


def frame_index(frame: np.ndarray) -> int:
    return round(float(frame.mean()) / 8)


@pytest.fixture
def clip_30fps(tmp_path):
    path = tmp_path / "thirty.avi"
    write_clip(path, numbered_frames(30), fps=30)
    return path


def test_it_samples_a_30fps_file_down_to_10fps_with_file_times(clip_30fps):
    source = FrameSource(str(clip_30fps), target_fps=10, size=None)

    frames = list(source)

    assert [round(t, 3) for t, _ in frames] == [round(i / 10, 3) for i in range(10)]
    assert [frame_index(frame) for _, frame in frames] == list(range(0, 30, 3))
    assert source.stats.frames_read == 30
    assert source.stats.frames_decoded == 10
    assert source.stats.source_fps == pytest.approx(30)


def test_it_keeps_every_frame_when_the_target_is_above_the_file_rate(clip_30fps):
    frames = list(FrameSource(str(clip_30fps), target_fps=50, size=None))

    assert len(frames) == 30
    assert frames[-1][0] == pytest.approx(29 / 30)


def test_it_resizes_frames_to_the_analysis_size(clip_30fps):
    frames = list(FrameSource(str(clip_30fps), target_fps=10, size=(64, 48)).frames(limit=3))

    assert len(frames) == 3
    assert all(frame.shape == (48, 64, 3) for _, frame in frames)


def test_it_loops_a_file_with_time_still_increasing(tmp_path):
    path = tmp_path / "short.avi"
    write_clip(path, numbered_frames(10), fps=10)

    frames = list(FrameSource(str(path), target_fps=10, size=None, loop=True).frames(limit=25))

    assert [round(t, 3) for t, _ in frames] == [round(i / 10, 3) for i in range(25)]
    assert [frame_index(frame) for _, frame in frames] == [i % 10 for i in range(25)]


def test_a_file_without_loop_stops_at_its_end(tmp_path):
    path = tmp_path / "short.avi"
    write_clip(path, numbered_frames(10), fps=10)

    assert len(list(FrameSource(str(path), target_fps=10).frames(limit=100))) == 10


def test_a_missing_file_is_unavailable_at_once(tmp_path):
    sleeps = []
    source = FrameSource(str(tmp_path / "absent.avi"), target_fps=10, sleep=sleeps.append)

    with pytest.raises(SourceUnavailable, match="introuvable"):
        next(iter(source))
    assert sleeps == []


def test_a_dead_rtsp_stream_is_retried_with_backoff_then_given_up():
    sleeps = []
    # Port 9 (discard) on the loopback refuses the connection at once.
    source = FrameSource("rtsp://127.0.0.1:9/cam", target_fps=10, timeout=1, sleep=sleeps.append)

    with pytest.raises(SourceUnavailable, match="Flux vidéo indisponible"):
        next(iter(source))
    assert sleeps == [1, 2, 4, 8, 30]
    assert source.stats.reconnections == 5


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeCamera:
    """A live capture delivering ``frames`` frames at 25 fps, then failing."""

    def __init__(self, clock: FakeClock, frames: int, value: int):
        self.clock, self.left, self.value = clock, frames, value
        self.released = False

    def isOpened(self):
        return True

    def grab(self):
        if self.left <= 0:
            return False
        self.left -= 1
        self.clock.now += 0.04
        return True

    def retrieve(self):
        return True, np.full((36, 64, 3), self.value, np.uint8)

    def release(self):
        self.released = True


def test_a_live_stream_is_sampled_on_its_clock_and_reconnected_after_a_failure():
    clock, sleeps = FakeClock(), []
    cameras = [FakeCamera(clock, 25, 10), None, FakeCamera(clock, 25, 20)]
    opened = []

    def open_camera(url):
        camera = cameras.pop(0)
        opened.append(camera)
        return camera

    def sleep(seconds):
        sleeps.append(seconds)
        clock.now += seconds

    source = FrameSource("rtsp://camera.example/stream", target_fps=10, size=(32, 18),
                         clock=clock, sleep=sleep, capture_factory=open_camera)

    frames = list(source.frames(limit=20))

    # 25 frames at 25 fps sampled at 10 fps: one second, 10 frames, then a failed reopening.
    first = [t for t, frame in frames if frame[0, 0, 0] == 10]
    assert len(first) == 10
    assert first[0] == 0
    assert all(0.07 < b - a < 0.13 for a, b in zip(first, first[1:]))
    assert sleeps == [1, 2]
    assert [frame[0, 0, 0] for _, frame in frames[10:]] == [20] * 10
    assert frames[10][0] > first[-1] + 3  # the time lost reconnecting is in t
    assert frames[0][1].shape == (18, 32, 3)
    assert opened[0].released
    assert source.stats.frames_decoded == 20
    assert source.stats.reconnections == 2


def test_a_live_stream_gives_up_after_max_retries():
    sleeps = []
    source = FrameSource("http://camera.example/mjpeg", target_fps=5, max_retries=2,
                         reconnect_backoff=(3,), sleep=sleeps.append,
                         capture_factory=lambda url: None)

    with pytest.raises(SourceUnavailable):
        list(source)
    assert sleeps == [3, 3]


def test_write_clip_refuses_an_empty_clip(tmp_path):
    with pytest.raises(ValueError, match="Aucune image"):
        write_clip(tmp_path / "empty.avi", [])


class DroppingFile:
    """A 10 fps file that lost every other frame: its timestamps jump by 200 ms."""

    def __init__(self, frames: int):
        self.left, self.read = frames, 0

    def isOpened(self):
        return True

    def grab(self):
        if self.left <= 0:
            return False
        self.left -= 1
        self.read += 1
        return True

    def get(self, prop):
        if prop == cv2.CAP_PROP_POS_MSEC:
            return 200.0 * self.read  # as FFmpeg reports it, once the frame is grabbed
        return 10.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def retrieve(self):
        return True, np.zeros((36, 48, 3), np.uint8)

    def release(self):
        pass


def test_a_file_with_dropped_frames_is_timed_by_its_timestamps_not_its_frame_count(tmp_path):
    path = tmp_path / "dropped.avi"
    path.write_bytes(b"not read: the capture is faked")
    source = FrameSource(path, target_fps=10, size=None,
                         capture_factory=lambda url: DroppingFile(10))
    times = [round(t, 3) for t, _ in source]
    assert times == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8]


def test_frames_keep_their_aspect_within_the_analysis_size():
    assert analysis_size((480, 360)) == (480, 360)  # 4:3 is not stretched to 16:9
    assert analysis_size((1280, 720)) == (640, 360)
    assert analysis_size((1440, 1080)) == (480, 360)
