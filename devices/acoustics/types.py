"""What the sound analysis gives out: per-second levels and sound events, never samples.

Times are the sensor's own clock (POSIX seconds, float). Levels are in dB relative to the
sensor's calibration: ``20 log10(rms) + calibration_db`` for samples in digital full scale.
"""

from dataclasses import dataclass

KINDS = ("detonation", "scream", "glass", "music")


@dataclass(frozen=True)
class Levels:
    """One second of sound, as a noise monitoring station reports it."""

    start: float  # sensor time of the second's first sample
    laeq: float  # A-weighted equivalent level over the second, dB(A)
    lafmax: float  # highest A-weighted Fast (125 ms) level in the second, dB(A)
    bands: dict[int, float]  # octave bands (unweighted Leq, dB) by centre frequency, in Hz


@dataclass(frozen=True)
class SoundEvent:
    """A sound worth an operator's attention.

    For impulses ("detonation", "glass") ``start`` is the arrival time of the wavefront to about
    a millisecond: the onset sample, not a frame boundary, so that sensors can be compared for
    multilateration.
    """

    kind: str  # one of KINDS, or a label of a pluggable classifier
    start: float
    end: float
    confidence: float  # 0..1
    peak_db: float  # LAFmax during the event, dB(A)
    laeq_db: float  # LAeq over the event, dB(A)
    bands: dict[int, float]  # octave-band levels over the event, dB, rounded to 0.1

    @property
    def duration(self) -> float:
        return self.end - self.start
