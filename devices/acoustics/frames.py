"""PCM frames that edge sound sensors publish over MQTT.

A frame is a small binary message: a fixed little-endian header, then mono 16-bit samples.

    magic      4 bytes  b"CRA1"
    rate       uint32   samples per second (8000 to 48000)
    t0         int64    sensor time of the first sample, microseconds since the epoch (UTC)
    sequence   uint32   the sensor's frame counter (wraps)
    channels   uint16   1
    format     uint16   1 = signed 16-bit integers
    count      uint32   number of samples that follow (at most 2 s of audio)
    samples    count × int16

The sensor's clock gives the time (synchronised to about a millisecond, by GPS or PTP), so
arrivals at different sensors can be compared. Anything else is refused with a reason, never
half-read.
"""

import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"CRA1"
HEADER = struct.Struct("<4sIqIHHI")
FORMAT_S16 = 1
MIN_RATE, MAX_RATE = 8000, 48000
MAX_SECONDS = 2.0
# A sensor's clock is believed between 2001 and 2100: a zero or garbage time is refused.
MIN_T0_US, MAX_T0_US = 978_307_200 * 10**6, 4_102_444_800 * 10**6


class FrameError(ValueError):
    """A frame that cannot be taken; ``reason`` is a short code counted per sensor."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    t0: float              # sensor time of the first sample, POSIX seconds
    sample_rate: int
    sequence: int
    samples: np.ndarray    # float32 in [-1, 1]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def encode_frame(t0: float, samples: np.ndarray, *, sample_rate: int = 16000,
                 sequence: int = 0) -> bytes:
    """The frame an edge sensor sends (float samples in [-1, 1], or int16)."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        samples = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    header = HEADER.pack(MAGIC, sample_rate, round(t0 * 1e6), sequence & 0xFFFFFFFF, 1,
                         FORMAT_S16, len(samples))
    return header + samples.astype("<i2").tobytes()


def decode_frame(payload: bytes, *, expected_rate: int | None = None) -> Frame:
    """The frame in ``payload``, or ``FrameError`` saying why not."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise FrameError("type", "Trame audio : des octets sont attendus.")
    payload = bytes(payload)
    if len(payload) < HEADER.size:
        raise FrameError("short", "Trame audio tronquée (en-tête incomplet).")
    magic, rate, t0_us, sequence, channels, sample_format, count = HEADER.unpack_from(payload)
    if magic != MAGIC:
        raise FrameError("magic", "Trame audio : format inconnu.")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise FrameError("rate", f"Trame audio : fréquence d'échantillonnage invalide ({rate}).")
    if expected_rate is not None and rate != expected_rate:
        raise FrameError("rate", f"Trame audio à {rate} Hz, {expected_rate} Hz attendus.")
    if channels != 1:
        raise FrameError("channels", "Trame audio : un seul canal (mono) est accepté.")
    if sample_format != FORMAT_S16:
        raise FrameError("format", "Trame audio : échantillons 16 bits signés attendus.")
    if count == 0 or count > MAX_SECONDS * rate:
        raise FrameError("length", f"Trame audio : nombre d'échantillons invalide ({count}).")
    if len(payload) != HEADER.size + 2 * count:
        raise FrameError("length", "Trame audio : la taille ne correspond pas à l'en-tête.")
    if not MIN_T0_US <= t0_us <= MAX_T0_US:
        raise FrameError("time", "Trame audio : horodatage du capteur invalide.")
    samples = np.frombuffer(payload, dtype="<i2", offset=HEADER.size, count=count)
    return Frame(t0=t0_us / 1e6, sample_rate=rate, sequence=sequence,
                 samples=samples.astype(np.float32) / 32768.0)
