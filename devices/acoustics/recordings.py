"""Labelled real recordings on disk, split into two sides that never share a recording.

A folder holds audio files and a ``labels.csv`` beside them with the columns ``file`` (path
relative to the folder), ``label`` (``detonation``, ``glass``, ``scream`` or ``none``),
``subclass`` (e.g. ``dog_bark``, ``ambience``), ``seconds`` and ``group``. A city can lay out its
own recordings this way and measure the detectors on them (``bench/acoustics.py --data``).

Sides. The sound models are learned on one side and measured on the other. Groups named
``fold<N>`` (slices of UrbanSound8K, whose folds come from different recordings) go whole to
side 1 for odd N and side 2 for even N; the clips of any other group are dealt alternately, in
file-name order, to side 1 and side 2; a clip of subclass ``ambience`` (a long street recording
to mix events into and to count false alarms on) is cut in two, its first half on side 1.
"""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LABELS = ("detonation", "glass", "scream", "none")
COLUMNS = ("file", "label", "subclass", "seconds", "group")
AMBIENCE = "ambience"
SAMPLE_RATE = 16000


class DataError(ValueError):
    """The folder is not a labelled recording set (message in French)."""


@dataclass(frozen=True)
class Recording:
    path: Path
    label: str
    subclass: str
    seconds: float
    group: str
    side: int  # 1 or 2; 0 for an ambience recording, whose halves go to either side


def read(folder: str | Path) -> list[Recording]:
    """The recordings listed in ``folder/labels.csv``, with their side."""
    folder = Path(folder)
    index = folder / "labels.csv"
    if not index.is_file():
        raise DataError(f"Aucun fichier labels.csv dans {folder}.")
    with index.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DataError(f"labels.csv : colonne(s) manquante(s) : {', '.join(missing)}.")
        rows = list(reader)
    dealt: dict[str, int] = {}
    recordings = []
    for row in sorted(rows, key=lambda r: r["file"]):
        label = row["label"].strip()
        if label not in LABELS:
            raise DataError(f"labels.csv : étiquette inconnue « {label} » ({row['file']}).")
        group = row["group"].strip()
        subclass = row["subclass"].strip()
        fold = re.fullmatch(r"fold(\d+)", group)
        if subclass == AMBIENCE:
            side = 0
        elif fold:
            side = 1 if int(fold.group(1)) % 2 else 2
        else:
            side = 1 + dealt.get(group, 0) % 2
            dealt[group] = dealt.get(group, 0) + 1
        recordings.append(Recording(folder / row["file"], label, subclass,
                                    float(row["seconds"] or 0), group, side))
    return recordings


def load(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole file as mono float32 samples at ``sample_rate`` (decoded by FFmpeg)."""
    from .source import StreamSource

    source = StreamSource(str(path), sample_rate=sample_rate, realtime=False, start=0.0,
                          block_seconds=60.0)
    try:
        blocks = [samples for _, samples in source]
    finally:
        source.close()
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def side_audio(recording: Recording, side: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The part of a recording that belongs to ``side``: all of it, or an ambience's half."""
    samples = load(recording.path, sample_rate)
    if recording.side:
        return samples if recording.side == side else samples[:0]
    half = len(samples) // 2
    return samples[:half] if side == 1 else samples[half:]
