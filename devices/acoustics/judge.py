"""The learned judge of a candidate sound: detonation, breaking glass, scream or nothing.

A candidate is an abrupt rise of the street's sound (see ``detectors._Impulses``). The judge
looks at the second that follows it as a log-mel spectrogram (32 mel bands from 60 Hz to
7.6 kHz, one frame per 20 ms hop, from the front end's 40 ms spectra) measured against the
background spectrum of the street just before, and sums it up in 178 figures: the band
profile of the sound, its onset, body and tail per band group, its loudness envelope over time,
where its energy sits in frequency, how tonal it is; and the same sound measured against itself
(``relative_figures``: its spectrum and envelope relative to their peaks, how sharply each band
group jumps at the onset), which read alike at any SNR. A gradient-boosted tree ensemble
(``bench/train_sounds.py``, learned offline on real recordings mixed into real street sound)
turns the figures into a probability per class. A small convolutional network
(``sounds.onnx``, run by OpenCV's DNN module) looks at the spectrogram itself (``image``) and
gives its own; the two are blended (a weighted mean of their log-probabilities) and the blend is
calibrated on held-out recordings so that a confidence of 0.9 is right about nine times in ten.

The trees are plain data (``sounds.json``): arrays of nodes, read and evaluated with numpy
without any learning library; the JSON names the network beside it and its weight in the blend.
"""

import json
import math
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

MODEL = Path(__file__).with_name("sounds.json")
MEL_BANDS = 32
MEL_RANGE = (60.0, 7600.0)
WINDOW = 50  # hops (1 s) judged, from two hops before the onset
LEAD = 2  # hops before the onset in the window
GROUPS = 8  # band groups (of 4 mel bands) for the onset / body / tail figures
FLOOR_DB = -10.0  # a band this far under its background counts as at the background
RELATIVE_FLOOR_DB = -40.0  # a band or hop this far under the sound's peak counts as silent
LOUDEST = 3  # hops of the sound's own spectrum at its loudest
TINY = 1e-20


def mel_matrix(sample_rate: int, bins: int) -> np.ndarray:
    """A (bins x MEL_BANDS) matrix of triangular mel filters over rfft power bins."""
    freqs = np.fft.rfftfreq(2 * (bins - 1), 1 / sample_rate)
    top = min(MEL_RANGE[1], 0.47 * sample_rate)
    mel = np.linspace(_mel(MEL_RANGE[0]), _mel(top), MEL_BANDS + 2)
    edges = 700.0 * (10 ** (mel / 2595.0) - 1.0)
    matrix = np.zeros((bins, MEL_BANDS))
    for band in range(MEL_BANDS):
        low, centre, high = edges[band:band + 3]
        rising = (freqs - low) / (centre - low)
        falling = (high - freqs) / (high - centre)
        matrix[:, band] = np.maximum(0.0, np.minimum(rising, falling))
    return matrix


def mel_centres(sample_rate: int) -> np.ndarray:
    """The centre frequency of each mel band, Hz."""
    top = min(MEL_RANGE[1], 0.47 * sample_rate)
    mel = np.linspace(_mel(MEL_RANGE[0]), _mel(top), MEL_BANDS + 2)[1:-1]
    return 700.0 * (10 ** (mel / 2595.0) - 1.0)


def _mel(hz: float) -> float:
    return 2595.0 * math.log10(1.0 + hz / 700.0)


def hop_figures(power: np.ndarray, tonal_bins: tuple[int, int]) -> np.ndarray:
    """Per hop (rows of rfft power), three figures of pitch (hops x 3).

    Tonality: how far the strongest bins of 400 Hz-4 kHz stand above their median (dB): a
    whistle, a cry or a siren stands out; noise and cracks do not. Then the highest peak of the
    cepstrum over the periods of a high pitch (350-2000 Hz: a scream) and of a low one (80-350
    Hz: speech, an engine): the harmonics of a voiced sound make the log spectrum periodic.
    """
    low, high = tonal_bins
    log = np.log(power + 1e-12)
    band = log[:, low:high] * (10 / math.log(10))
    middle = band.shape[1] // 2
    ranked = np.partition(band, (middle, band.shape[1] - 3), axis=1)
    tonal = ranked[:, -3:].mean(axis=1) - ranked[:, middle]
    frame = 2 * (power.shape[1] - 1)
    cepstrum = np.fft.irfft(log, axis=1)
    rate = frame * 25  # a 40 ms frame: sample rate = 25 x frame length
    q = [max(2, int(rate / hz)) for hz in (2000, 350, 80)]
    return np.stack((tonal, cepstrum[:, q[0]:q[1]].max(axis=1),
                     cepstrum[:, q[1]:min(q[2], frame // 2)].max(axis=1)), axis=1)


def features(mel: np.ndarray, background: np.ndarray, pitch: np.ndarray,
             extras: dict[str, float]) -> np.ndarray:
    """The figures of one candidate.

    ``mel``: WINDOW x MEL_BANDS mel powers from LEAD hops before the onset; ``background``: the
    street's mel powers just before it; ``pitch``: per-hop ``hop_figures`` over the window;
    ``extras``: the trigger's own figures (``EXTRAS``)."""
    bg = 10 * np.log10(background + TINY)
    level = 10 * np.log10(mel + TINY) - bg  # hops x bands, dB over the background
    excess = np.maximum(level, FLOOR_DB)
    grouped = excess.reshape(len(excess), GROUPS, -1).mean(axis=2)
    body = excess[LEAD:]
    total = 10 * np.log10(mel.sum(axis=1) + TINY) - 10 * math.log10(background.sum() + TINY)
    envelope = total[LEAD:]
    peak = int(np.argmax(envelope[:10]))
    after = envelope[peak:peak + 25]
    slope = float(np.polyfit(np.arange(len(after)), after, 1)[0]) if len(after) > 2 else 0.0
    share = np.maximum(mel - background, 0.0)
    active = envelope > 3.0
    weights = share[LEAD:].sum(axis=1) + TINY
    centroid = (share[LEAD:] @ np.arange(MEL_BANDS)) / weights
    linear = share[LEAD:] + TINY
    flatness = np.exp(np.mean(np.log(linear), axis=1)) / np.mean(linear, axis=1)
    flux = np.maximum(np.diff(excess, axis=0), 0).mean(axis=1)
    voiced = pitch[LEAD:]
    # Fresh onsets within the second: one for a shot, a few for a burst, a steady train for
    # automatic fire, a jackhammer or a drum.
    onsets = np.flatnonzero(np.diff(envelope) >= 6.0) + 1
    gaps = np.diff(onsets)

    def over(values):
        return np.mean(values[active], axis=0) if active.any() else np.zeros(values.shape[1:])

    parts = [
        np.percentile(body, 90, axis=0),                       # band profile (32)
        grouped[LEAD:LEAD + 5].mean(axis=0),                   # onset, 100 ms (8)
        grouped[LEAD + 5:LEAD + 20].mean(axis=0),              # body, 0.1-0.4 s (8)
        grouped[LEAD + 20:].mean(axis=0),                      # tail, 0.4-1 s (8)
        grouped[LEAD:].std(axis=0),                            # how each group varies (8)
        envelope[:10],                                         # onset shape, 20 ms steps (10)
        [envelope[i:i + 10].mean() for i in range(10, WINDOW - LEAD, 10)],  # later (4)
        [total[:LEAD].mean(), envelope.max(), peak, slope,
         np.sum(envelope > 3.0), np.sum(envelope > 10.0),
         np.std(np.diff(envelope)), over(centroid), float(np.std(centroid[active]))
         if active.sum() > 1 else 0.0, over(flatness), float(np.mean(flux))],
        over(voiced), voiced.max(axis=0), np.percentile(voiced, 75, axis=0),  # pitch (9)
        [float(np.mean(voiced[:, 1] > 0.4)), float(np.mean(voiced[:, 1] > voiced[:, 2]))],
        [len(onsets), float(np.median(gaps)) if len(gaps) else 0.0,
         float(np.std(gaps) / np.mean(gaps)) if len(gaps) > 1 else 0.0],
        relative_figures(share[LEAD:], level, grouped, flux),  # (69)
        [extras.get(name, math.nan) for name in EXTRAS],
    ]
    return np.concatenate([np.asarray(p, np.float64).ravel() for p in parts])


def image(mel: np.ndarray, background: np.ndarray) -> np.ndarray:
    """What the network looks at: the window's mel levels over the street's (dB, -10 to 60,
    over 20), and the sound's own levels under its peak (floored at -40 dB, over 20, plus 1);
    float32, 2 x WINDOW x MEL_BANDS."""
    level = 10 * np.log10(mel + TINY) - 10 * np.log10(background + TINY)
    own = 10 * np.log10(np.maximum(mel - background, 0.0) + TINY)
    own = np.maximum(own - own.max(), RELATIVE_FLOOR_DB)
    return np.stack((np.clip(level, FLOOR_DB, 60.0) / 20, own / 20 + 1)).astype(np.float32)


def relative_figures(share: np.ndarray, level: np.ndarray, grouped: np.ndarray,
                     flux: np.ndarray) -> np.ndarray:
    """69 figures of the sound measured against itself rather than against the street, so
    that they read alike whether it is heard at 0 or 25 dB SNR.

    ``share``: what the sound adds to the street's mel powers, from the onset (hops x bands);
    ``level``: the window's mel levels over the background (dB, hops x bands); ``grouped``: the
    same floored at ``FLOOR_DB`` and averaged per band group; ``flux``: per hop, the mean rise
    of the floored levels since the hop before.

    - its own spectrum at its ``LOUDEST`` hops, relative to its peak band, per pair of mel bands
      (16); in its first 100 ms and over 0.2-0.6 s, per band group (8 + 8): a shot is broad
      then gone, glass rings high, a cry keeps its formants;
    - its envelope relative to its peak: the first 200 ms in 20 ms hops (10), then in 100 ms
      steps from 0.2 to 0.9 s (7);
    - how far each band group jumps at the onset: its highest level over the first 100 ms
      against the level just before (8);
    - spectral flux: per band group, the rises over the first 200 ms (8); over all bands, the
      rises in the first 100 ms, over 0.1-0.3 s and after, and how many hops rise by over 3 dB
      (4).
    """
    def relative(powers):  # dB under the highest value, floored
        db = 10 * np.log10(powers + TINY)
        return np.maximum(db - db.max(), RELATIVE_FLOOR_DB)

    def per_group(powers):
        return relative(powers).reshape(GROUPS, -1).mean(axis=1)

    total = share.sum(axis=1)
    loudest = np.argsort(total)[-LOUDEST:]
    envelope = relative(total)
    rises = np.maximum(np.diff(grouped, axis=0), 0)
    onward = flux[LEAD - 1:]  # rises into the onset hop and after
    unfloored = level.reshape(len(level), GROUPS, -1).mean(axis=2)
    parts = [
        relative(share[loudest].mean(axis=0)).reshape(MEL_BANDS // 2, 2).mean(axis=1),
        per_group(share[:5].mean(axis=0)),
        per_group(share[10:30].mean(axis=0)),
        envelope[:10],
        [envelope[i:i + 5].mean() for i in range(10, WINDOW - LEAD - 3, 5)],
        unfloored[LEAD:LEAD + 5].max(axis=0) - unfloored[:LEAD].mean(axis=0),
        rises[LEAD - 1:LEAD + 9].sum(axis=0),
        [onward[:5].sum(), onward[5:15].sum(), onward[15:].sum(), float(np.sum(onward > 3.0))],
    ]
    return np.concatenate([np.asarray(p, np.float64).ravel() for p in parts])


# What the trigger measured (``candidates``): on the samples, for an abrupt rise; and whether
# the candidate is a swell (a sound rising slowly, such as a cry) rather than an abrupt rise.
EXTRAS = ("rise_ms", "crest", "peak_snr", "rhythm", "triggers", "swell")


@dataclass(frozen=True)
class Model:
    """A tree ensemble: every tree's nodes end to end in flat arrays (``left`` and ``right`` are
    indices into them, a leaf points to itself), raw scores summed per class, then softmax.

    ``calibration``: per class, points (x, y) of the map from the raw probability to the
    measured frequency; ``thresholds``: the calibrated probability from which a class is
    called."""

    classes: tuple[str, ...]
    baseline: np.ndarray  # (classes,)
    roots: np.ndarray  # (trees,) index of each tree's first node
    tree_class: np.ndarray  # (trees,)
    feature: np.ndarray  # (nodes,)
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    depth: int
    calibration: dict[str, tuple[np.ndarray, np.ndarray]]
    thresholds: dict[str, float]
    features: int
    # The network blended with the trees: its ONNX file (beside the model's), its weight, and
    # the order of its outputs.
    network: Path | None = None
    network_weight: float = 0.0
    network_classes: tuple[str, ...] = ()
    _net: list = field(default_factory=list, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False,
                                  compare=False)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated class probabilities for samples ``x`` (n x features)."""
        x = np.atleast_2d(np.asarray(x, np.float64))
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots)))
        for _ in range(self.depth):
            value = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(value), self.missing_left[node],
                               value <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        raw = self.baseline + self.value[node] @ self._one_hot
        raw -= raw.max(axis=1, keepdims=True)
        odds = np.exp(raw)
        return odds / odds.sum(axis=1, keepdims=True)

    def __post_init__(self):
        # Which class each tree adds to, as a matrix: leaves' values @ it = raw class scores.
        object.__setattr__(self, "_one_hot", np.eye(len(self.classes))[self.tree_class])
        # Where each of the trees' classes sits in the network's output.
        object.__setattr__(self, "_network_order",
                           [self.network_classes.index(c) for c in self.classes]
                           if self.network is not None else [])

    def blended(self, figures: np.ndarray, image: np.ndarray | None) -> np.ndarray:
        """Uncalibrated class probabilities of one candidate: the trees', blended with the
        network's when there is one and the candidate's ``image`` is given."""
        trees = self.probabilities(figures)[0]
        if self.network is None or image is None:
            return trees
        with self._lock:  # one network per process; OpenCV's nets are not thread-safe
            if not self._net:
                import cv2

                self._net.append(cv2.dnn.readNetFromONNX(str(self.network)))
            self._net[0].setInput(image[None].astype(np.float32, copy=False))
            network = self._net[0].forward()[0].astype(np.float64)
        return blend(trees, network[self._network_order], self.network_weight)

    def calibrated(self, label: str, probability: float) -> float:
        xs, ys = self.calibration[label]
        return float(np.interp(probability, xs, ys))

    def verdict(self, figures: np.ndarray, image: np.ndarray | None = None
                ) -> tuple[str | None, float, dict[str, float]]:
        """The class called (None for nothing), its calibrated confidence, and every class's."""
        raw = self.blended(figures, image)
        scores = {label: self.calibrated(label, float(p))
                  for label, p in zip(self.classes, raw) if label != "none"}
        best = max(scores, key=scores.get, default=None)
        if best is None or scores[best] < self.thresholds.get(best, 0.5):
            return None, 0.0, scores
        return best, scores[best], scores

    _ARRAYS = {"roots": np.int64, "tree_class": np.int64, "feature": np.int64,
               "threshold": np.float64, "left": np.int64, "right": np.int64,
               "missing_left": bool, "value": np.float64}

    def as_dict(self) -> dict:
        network = ({"file": self.network.name, "weight": self.network_weight,
                    "classes": list(self.network_classes)}
                   if self.network is not None else None)
        return {"classes": list(self.classes), "baseline": self.baseline.tolist(),
                "network": network,
                "depth": self.depth, "features": self.features, "thresholds": self.thresholds,
                "calibration": {k: [list(map(float, xs)), list(map(float, ys))]
                                for k, (xs, ys) in self.calibration.items()},
                **{name: getattr(self, name).tolist() for name in self._ARRAYS}}

    @classmethod
    def from_dict(cls, data: dict, folder: Path | None = None) -> "Model":
        """``folder``: where the network's file lies (the model file's own folder)."""
        network = data.get("network")
        return cls(classes=tuple(data["classes"]),
                   network=(folder or Path(".")) / network["file"] if network else None,
                   network_weight=float(network["weight"]) if network else 0.0,
                   network_classes=tuple(network["classes"]) if network else (),
                   baseline=np.asarray(data["baseline"], np.float64), depth=int(data["depth"]),
                   calibration={k: (np.asarray(xs), np.asarray(ys))
                                for k, (xs, ys) in data["calibration"].items()},
                   thresholds={k: float(v) for k, v in data["thresholds"].items()},
                   features=int(data["features"]),
                   **{name: np.asarray(data[name], dtype) for name, dtype in cls._ARRAYS.items()})

    def save(self, path: str | Path, provenance: dict) -> None:
        """As JSON, thresholds to 7 significant digits and leaf values to 5 decimals (the
        shipped file is what the benchmark measures, rounding included)."""
        data = self.as_dict()
        data["threshold"] = [float(f"{t:.7g}") for t in data["threshold"]]
        data["value"] = [round(v, 5) for v in data["value"]]
        Path(path).write_text(json.dumps({"provenance": provenance, **data},
                                         separators=(",", ":")), encoding="utf-8")


def blend(trees: np.ndarray, network: np.ndarray, weight: float) -> np.ndarray:
    """The trees' and the network's class probabilities (same order, one row or many) as one:
    the softmax of their log-probabilities weighted ``1 - weight`` and ``weight``."""
    log = weight * np.log(network + 1e-9) + (1 - weight) * np.log(trees + 1e-9)
    odds = np.exp(log - log.max(axis=-1, keepdims=True))
    return odds / odds.sum(axis=-1, keepdims=True)


def load(path: str | Path) -> Model:
    path = Path(path)
    return Model.from_dict(json.loads(path.read_text(encoding="utf-8")), path.parent)


@cache
def shipped() -> Model:
    return load(MODEL)


def from_sklearn(estimator, calibration, thresholds, features: int) -> Model:
    """A fitted ``HistGradientBoostingClassifier`` as plain arrays (used by the training)."""
    trees = [(index, predictor.nodes) for stage in estimator._predictors
             for index, predictor in enumerate(stage)]
    classes = tuple(str(c) for c in estimator.classes_)
    if len(classes) < 3:
        raise ValueError("The judge needs at least three classes.")
    sizes = np.array([len(nodes) for _, nodes in trees])
    roots = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    nodes = np.concatenate([nodes for _, nodes in trees])
    offset = np.repeat(roots, sizes)
    here = np.arange(len(nodes))
    leaf = nodes["is_leaf"].astype(bool)
    return Model(classes=classes,
                 baseline=np.asarray(estimator._baseline_prediction, np.float64).reshape(-1),
                 roots=roots, tree_class=np.array([index for index, _ in trees]),
                 feature=np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64),
                 threshold=np.where(leaf, 0.0, nodes["num_threshold"]),
                 left=np.where(leaf, here, nodes["left"] + offset),
                 right=np.where(leaf, here, nodes["right"] + offset),
                 missing_left=nodes["missing_go_to_left"].astype(bool),
                 value=np.where(leaf, nodes["value"], 0.0),
                 depth=int(nodes["depth"].max()),
                 calibration=calibration, thresholds=thresholds, features=features)
