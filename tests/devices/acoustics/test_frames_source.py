"""Where audio comes from: edge sensors' PCM frames (checked, never half-read) and streams read
through FFmpeg, with the sensor's time on every block."""

import wave

import numpy as np
import pytest

from devices.acoustics.frames import HEADER, MAGIC, FrameError, decode_frame, encode_frame
from devices.acoustics.source import StreamError, StreamSource

RATE = 16000
T0 = 1_795_000_000.123456


def test_a_frame_round_trips_with_its_clock_to_the_microsecond():
    samples = np.sin(np.linspace(0, 40, 4000)).astype(np.float32) * 0.5
    frame = decode_frame(encode_frame(T0, samples, sequence=7), expected_rate=RATE)
    assert frame.t0 == pytest.approx(T0, abs=1e-6) and frame.sequence == 7
    assert frame.sample_rate == RATE and frame.duration == 0.25
    assert np.abs(frame.samples - samples).max() < 1e-4


@pytest.mark.parametrize("payload, reason", [
    (b"", "short"),
    (b"\x00" * 10, "short"),
    (b"XXXX" + encode_frame(T0, np.zeros(10))[4:], "magic"),
    (encode_frame(T0, np.zeros(100))[:-2], "length"),
    (encode_frame(T0, np.zeros(100)) + b"\x00\x00", "length"),
    (HEADER.pack(MAGIC, RATE, round(T0 * 1e6), 0, 1, 1, 0), "length"),
    (HEADER.pack(MAGIC, RATE, round(T0 * 1e6), 0, 1, 1, 40000) + b"\0" * 80000, "length"),
    (HEADER.pack(MAGIC, RATE, round(T0 * 1e6), 0, 2, 1, 2) + b"\0" * 4, "channels"),
    (HEADER.pack(MAGIC, RATE, round(T0 * 1e6), 0, 1, 3, 2) + b"\0" * 4, "format"),
    (HEADER.pack(MAGIC, 100, round(T0 * 1e6), 0, 1, 1, 2) + b"\0" * 4, "rate"),
    (encode_frame(T0, np.zeros(10), sample_rate=8000), "rate"),
    (HEADER.pack(MAGIC, RATE, 0, 0, 1, 1, 2) + b"\0" * 4, "time"),
    ("texte", "type"),
])
def test_malformed_frames_are_refused_with_their_reason(payload, reason):
    with pytest.raises(FrameError) as refused:
        decode_frame(payload, expected_rate=RATE)
    assert refused.value.reason == reason and str(refused.value).startswith("Trame audio")


@pytest.fixture
def ramp(tmp_path):
    """Three seconds whose samples say where they are in the file."""
    samples = ((np.arange(RATE * 3) % 1000) / 1000.0 - 0.5).astype(np.float32)
    path = tmp_path / "ramp.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.round(samples * 32767).astype("<i2").tobytes())
    return path, np.round(samples * 32767) / 32768


def test_a_file_read_once_gives_contiguous_timed_blocks(ramp):
    path, expected = ramp
    blocks = list(StreamSource(str(path), realtime=False, start=100.0))
    assert [t for t, _ in blocks] == pytest.approx([100.0 + 0.25 * i for i in range(12)])
    assert np.abs(np.concatenate([b for _, b in blocks]) - expected).max() < 1e-4


def test_a_looping_file_plays_in_step_with_the_clock(ramp):
    """At time t the file plays at t modulo its duration, across loops: several sensors' files
    of one duration play as one synchronised scene."""
    path, expected = ramp
    clock = [1000.7]
    source = StreamSource(str(path), realtime=True, clock=lambda: clock[0])
    blocks = iter(source)
    for _ in range(16):  # over a loop boundary
        t, samples = next(blocks)
        clock[0] = t + len(samples) / RATE  # no waiting: the clock follows the blocks
        position = round((t % 3.0) * RATE)
        assert np.abs(samples[:200] - expected[position:position + 200]).max() < 1e-4
    source.close()


def test_unreadable_streams_raise_a_clear_error_without_the_address(tmp_path):
    with pytest.raises(StreamError, match="introuvable : absent.wav"):
        list(StreamSource(str(tmp_path / "absent.wav"), realtime=False))
    with pytest.raises(StreamError) as refused:
        list(StreamSource("rtsp://agent:motdepasse@127.0.0.1:9/audio", realtime=False, timeout=2))
    assert "motdepasse" not in str(refused.value)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file")
    with pytest.raises(StreamError):
        list(StreamSource(str(broken), realtime=False))


def test_a_looping_file_resumes_where_its_last_reading_stopped(ramp):
    """A new reading (the next analysis window) carries on from the previous one's end when it
    is only a little behind the clock, so the analysis sees one unbroken stream."""
    path, expected = ramp
    source = StreamSource(str(path), realtime=True, resume=1001.25, clock=lambda: 1003.0)
    t, samples = next(iter(source))
    assert t == pytest.approx(1001.25)
    at = round(2.25 * RATE)
    assert np.abs(samples[:200] - expected[at:at + 200]).max() < 1e-4
    source.close()
    late = StreamSource(str(path), realtime=True, resume=900.0, clock=lambda: 1003.0)
    t, _ = next(iter(late))
    assert t == pytest.approx(1003.0)  # too far behind: in step with the clock again
    late.close()


def test_a_wav_whose_tags_are_in_latin1_is_read(ramp, tmp_path):
    """Recorders often write a LIST/INFO title in Latin-1: the tag is not ours to read, the
    audio is."""
    import struct

    path, expected = ramp
    data = path.read_bytes()
    title = "Rue de la République, capteur n°3".encode("latin-1") + b"\x00"
    title += b"\x00" * (len(title) % 2)
    info = b"INFO" + b"INAM" + struct.pack("<I", len(title)) + title
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    at = data.index(b"data")  # the tags go before the samples, where recorders put them
    body = data[8:at] + chunk + data[at:]
    tagged = tmp_path / "latin1.wav"
    tagged.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(UnicodeDecodeError):
        title.decode("utf-8")

    blocks = list(StreamSource(str(tagged), realtime=False, start=0.0))

    assert np.abs(np.concatenate([b for _, b in blocks]) - expected).max() < 1e-4
