"""Pluggable sound classifiers: a user-supplied model scoring the last window of audio.

The built-in judge covers detonations, breaking glass and screams; a site that has a model of
its own (for a sound it does not cover, or to confirm it) plugs it in here. The ``Analyser`` runs it every
half window on the most recent ``window_seconds`` of samples.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .levels import HOPS_PER_SECOND
from .types import SoundEvent


class Classifier(Protocol):
    window_seconds: float

    def scores(self, samples: np.ndarray, sample_rate: int) -> dict[str, float]: ...


class OnnxClassifier:
    """An ONNX audio model run by OpenCV's DNN module (no other runtime needed).

    Input: float32 ``[1, N]``, the N = ``window_seconds * sample_rate`` most recent raw samples
    in [-1, 1]; output: ``[1, C]`` scores in 0..1, C being ``len(labels)``, score i for
    ``labels[i]``. The model is run once at load on silence, so that a model that does not fit
    (wrong input size, wrong number of outputs) is refused at configuration time rather than
    on the first sound.
    """

    def __init__(self, path: str | Path, labels: Sequence[str], *, window_seconds: float = 1.0,
                 threshold: float = 0.5, sample_rate: int = 16000):
        path = Path(path)
        self.labels = tuple(str(label) for label in labels)
        if not self.labels:
            raise ValueError("Le modèle audio doit avoir au moins une classe.")
        if window_seconds <= 0:
            raise ValueError("La fenêtre du modèle audio doit durer plus de 0 s.")
        if not path.is_file():
            raise ValueError(f"Modèle audio illisible : {path} (fichier introuvable)")
        try:
            self._net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as error:
            raise ValueError(f"Modèle audio illisible : {path} ({_first_line(error)})") from error
        self.path = path
        self.window_seconds = float(window_seconds)
        self.threshold = float(threshold)
        self.sample_rate = int(sample_rate)
        try:
            output = self._run(np.zeros(self._length(self.sample_rate), np.float32))
        except cv2.error as error:
            raise ValueError(f"Modèle audio illisible : {path} ne s'exécute pas sur une entrée "
                             f"[1, {self._length(self.sample_rate)}] ({_first_line(error)})"
                             ) from error
        if output.size != len(self.labels):
            raise ValueError(f"Modèle audio inadapté : {path} donne {output.size} score(s) pour "
                             f"{len(self.labels)} classe(s) ({', '.join(self.labels)}).")

    def _length(self, sample_rate: int) -> int:
        return max(1, int(round(self.window_seconds * sample_rate)))

    def _run(self, samples: np.ndarray) -> np.ndarray:
        self._net.setInput(np.ascontiguousarray(samples, np.float32).reshape(1, -1))
        return np.asarray(self._net.forward(), np.float32).reshape(-1)

    def scores(self, samples: np.ndarray, sample_rate: int) -> dict[str, float]:
        """Scores of the window; a shorter one (stream start) is padded with silence in front."""
        length = self._length(sample_rate)
        samples = np.asarray(samples, np.float32).reshape(-1)[-length:]
        if len(samples) < length:
            samples = np.concatenate((np.zeros(length - len(samples), np.float32), samples))
        output = self._run(samples)
        return {label: float(score) for label, score in zip(self.labels, output)}


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class Episodes:
    """Episodes of a classifier's labels: one event per episode, when it ends (or after 10 s
    if it lasts)."""

    LONGEST = 10.0

    def __init__(self, analyser):
        self.a = analyser
        c = analyser.classifier
        self.open: dict[str, dict] = {}
        if c is None:
            return
        self.window = int(round(float(c.window_seconds) * analyser.sample_rate))
        self.every = max(1, int(round(c.window_seconds * HOPS_PER_SECOND / 2)))
        self.threshold = float(getattr(c, "threshold", 0.5))

    def run(self, first_hop: int, count: int) -> list[SoundEvent]:
        events = []
        a = self.a
        for hop in range(first_hop, first_hop + count):
            if (hop + 1) % self.every:
                continue
            end = (hop + 1) * a.hop
            window = a.recent_samples(end - self.window, end)
            if window is None:
                continue
            scores = a.classifier.scores(window, a.sample_rate)
            for label, score in scores.items():
                score = float(score)
                episode = self.open.get(label)
                if score >= self.threshold:
                    if episode is None:
                        episode = self.open[label] = {
                            "start": end - self.window, "score": score, "emitted": False,
                            "energy": 0.0, "fast": 0.0, "hops": 0,
                            "octaves": np.zeros(len(a.octaves)),
                            "from": max(0, (end - self.window) // a.hop)}
                    episode["score"] = max(episode["score"], score)
                    episode["end"] = end
                    energy, fast, octaves = a._history.span(episode["from"], hop)
                    episode["energy"] += float(np.sum(energy))
                    episode["fast"] = max(episode["fast"], float(np.max(fast)))
                    episode["octaves"] = episode["octaves"] + np.sum(octaves, axis=0)
                    episode["hops"] += len(energy)
                    episode["from"] = hop + 1
                    if (not episode["emitted"]
                            and (end - episode["start"]) / a.sample_rate >= self.LONGEST):
                        episode["emitted"] = True
                        events.append(self.emit(label, episode))
                elif episode is not None:
                    del self.open[label]
                    if not episode["emitted"]:
                        events.append(self.emit(label, episode))
        return events

    def emit(self, label: str, e: dict) -> SoundEvent:
        return self.a.event(label, e["start"], e["end"], e["score"], e["energy"], e["hops"],
                            e["fast"], e["octaves"] / max(1, e["hops"]))

    def finish(self, hop: int) -> list[SoundEvent]:
        events = [self.emit(label, e) for label, e in self.open.items() if not e["emitted"]]
        self.open = {}
        return events
