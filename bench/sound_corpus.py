"""What the sound model's training and its benchmark share: real recordings mixed into real
street sound, run through an ``Analyser``, and the candidates it judged, labelled.

A mixture is a street background with an event laid on it at a given SNR (``synth.mix``: the
event's A-weighted energy over its active span against the background's over the same samples).
A candidate belongs to the event when its onset falls between 150 ms before the event's active
span and the span's end, and the event is not drowned in the second judged (at least a quarter
of the street's energy there: a shot at 0 dB SNR still counts); when the event is under a
sixteenth of the street's energy there, it is the street's ("none"); in between, it is left out
(``label`` None). Any other candidate is the street's own.
"""

import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from devices.acoustics import recordings, synth  # noqa: E402
from devices.acoustics.detectors import Analyser  # noqa: E402

SR = 16000
BLOCK = SR // 4
T0 = 1_768_604_400.0
LEAD = 2.5  # seconds of street before the event: the background settles
TAIL = 1.5  # seconds of street after it
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sounds"
EVENTS = ("detonation", "glass", "scream")


@dataclass
class Candidate:
    time: float  # seconds from the mixture's start
    label: str  # the truth: the event's class or "none"
    window: tuple | None = None  # what the judge looks at (``Candidates.window``)


def background(street: np.ndarray, seconds: float, rng) -> np.ndarray:
    """``seconds`` of ``street`` from a random place (looped if too short)."""
    n = int(seconds * SR)
    if len(street) < n:
        street = np.tile(street, n // max(1, len(street)) + 1)
    start = int(rng.integers(0, len(street) - n + 1))
    return street[start:start + n].astype(np.float64)


def mixture(event: np.ndarray, street: np.ndarray, snr_db: float, rng,
            shift: float = 0.0) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
    """``event`` laid on street sound at ``snr_db``, ``LEAD + shift`` seconds in; with the
    event's active span (seconds from the mixture's start) and its share of the samples."""
    offset = int((LEAD + shift) * SR)
    bg = background(street, LEAD + shift + len(event) / SR + TAIL, rng)
    clip = synth.mix(event, bg, snr_db, offset, sample_rate=SR)
    first, last = synth.active_span(np.asarray(event, np.float64), SR)
    return clip, ((offset + first) / SR, (offset + last) / SR), clip - bg


def candidates(clip: np.ndarray) -> list[Candidate]:
    """The candidates of one clip with what the judge would look at, run as a sensor would
    hear it (0.25 s blocks)."""
    analyser = Analyser(SR)
    analyser.harvest = True
    analyser._trace = []
    for start in range(0, len(clip), BLOCK):
        analyser.feed(T0 + start / SR, clip[start:start + BLOCK])
    analyser.flush()
    return [Candidate(time=t["time"] - T0, label="none", window=t.get("window"))
            for t in analyser._trace if t.get("detector") == "candidate"]


def labelled(found: list[Candidate], label: str, span: tuple[float, float] | None,
             clip: np.ndarray | None = None, share: np.ndarray | None = None):
    for candidate in found:
        if span is None or not span[0] - 0.15 <= candidate.time <= span[1]:
            continue
        candidate.label = label
        if share is not None:
            window = slice(max(0, int((candidate.time - 0.04) * SR)),
                           int((candidate.time + 0.96) * SR))
            event = float(np.sum(np.square(share[window], dtype=np.float64)))
            street = float(np.sum(np.square(clip[window] - share[window], dtype=np.float64)))
            if event < street / 16:
                candidate.label = "none"
            elif event < street / 4:
                candidate.label = None
    return found


def source_recording(path: str) -> str:
    """The recording a clip (a path, or any name ending in one) was cut from. UrbanSound8K's
    slices are named ``fsID-classID-occurrence-slice``, and the slices of one freesound recording
    (``fsID``) are alike in sound and far from independent; any other clip is its own."""
    match = re.fullmatch(r"(\d+)-\d+-\d+-\d+\.\w+", Path(path).name)
    return f"us8k:{match.group(1)}" if match else path


def street_of(data: Path, side: int) -> np.ndarray:
    """The side's half of every ambience recording, end to end."""
    parts = [recordings.side_audio(r, side) for r in recordings.read(data)
             if r.side == 0]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def continuous(parts: list[np.ndarray], fade: float = 0.5) -> np.ndarray:
    """Recordings played back to back, each fading into the next over ``fade`` seconds."""
    n = int(fade * SR)
    out = np.asarray(parts[0], np.float64)
    ramp = np.linspace(0.0, 1.0, n)
    for part in parts[1:]:
        part = np.asarray(part, np.float64)
        if len(part) <= n or len(out) <= n:
            out = np.concatenate((out, part))
            continue
        joint = out[-n:] * (1 - ramp) + part[:n] * ramp
        out = np.concatenate((out[:-n], joint, part[n:]))
    return out.astype(np.float32)


def confusion(results: list[dict], classes: tuple[str, ...]) -> tuple[dict, Counter]:
    """Print and return the confusion matrix of clips (``label``, ``predicted`` kinds): a clip
    counts once in each kind it raised, "none" when it raised nothing."""
    matrix, rows = defaultdict(Counter), Counter()
    for r in results:
        rows[r["label"]] += 1
        for kind in r["predicted"] or ["none"]:
            matrix[r["label"]][kind] += 1
    print("\nConfusion matrix (rows: truth, columns: predicted; a clip counts in each kind it "
          "raised)")
    print(f"{'':>12} {'clips':>6}" + "".join(f"{c:>12}" for c in classes))
    for truth in classes:
        print(f"{truth:>12} {rows[truth]:>6}" + "".join(f"{matrix[truth][c]:>12}"
                                                         for c in classes))
    return matrix, rows
