#!/usr/bin/env python
"""Learn the sound judge (``devices/acoustics/sounds.json``) from real recordings.

Data: a folder of labelled recordings (``recordings``: ``labels.csv`` beside the audio; by
default ``../shared/data/sounds``), of which only side ``--side`` is read: the other side is
kept for ``bench/acoustics.py`` to measure on. The shipped model is learned on side 1:

    .venv/bin/python bench/train_sounds.py --side 1

and the swap (learned on side 2, measured on side 1) is

    .venv/bin/python bench/train_sounds.py --side 2 --out /tmp/sounds-side2.json
    .venv/bin/python bench/acoustics.py --model /tmp/sounds-side2.json --side 1

Examples. Every event (detonation, glass, scream) is laid ``--variants`` times on real street
sound of the same side (an ambience recording, or another real "none" recording: a dog, a
drill, children...) at 0 to 25 dB SNR, shifted in time, sometimes reverberated (street-like
impulse response, RT60 0.2-0.8 s) or filtered (a far or muffled sensor). Every "none" recording
is laid on the ambience the same way, twice. Generated scenes (``synth``: each event, a
distractor, and music from a bar over the street, whose candidates are "none") are added, so
that the generator's sounds, which the unit tests and the demo city use, are known too; they
weigh half of their class at most (``SYNTHETIC_SHARE``), and are the ground truth of no figure.
Each mixture goes through an ``Analyser`` as a sensor stream; each candidate it finds is
labelled by time (``sound_corpus``) and its figures kept.

Model. A gradient-boosted tree ensemble (scikit-learn's ``HistGradientBoostingClassifier``),
the events' classes weighted to count alike and the street's candidates ("none") three times as
much (``STREET_WEIGHT``: a false alarm costs more than a missed faint event), and within a class
every recording alike (a long one gives many candidates). Calibration: the probabilities of
three models, each learned without a third of the recordings, on that third (grouped by source
recording, so that variants of one clip, and UrbanSound8K's slices of one recording, never sit
on both sides), give a logistic map per class from the probability to the observed frequency
(recordings weighted as above). The final model is learned on everything and exported as plain
arrays. Every step has a fixed seed: the
same command rebuilds the same file on the same machine (the network's learning is
deterministic for a given processor and thread count only).
"""

import argparse
import dataclasses
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np  # noqa: E402
import sound_network  # noqa: E402
from scipy import signal  # noqa: E402
from sound_corpus import (  # noqa: I001 (bench/ is the script's own folder)
    DEFAULT_DATA,
    EVENTS,
    LEAD,
    ROOT,
    SR,
    TAIL,
    candidates,
    continuous,
    labelled,
    mixture,
    source_recording,
    street_of,
)

from devices.acoustics import judge, recordings, synth  # noqa: E402

SYNTH_SEED = 700_000  # generated scenes for training: far from the tests' and benchmark's seeds
CLASSES = (*EVENTS, "none")


def augmented(event: np.ndarray, rng) -> np.ndarray:
    event = np.asarray(event, np.float64)
    if rng.random() < 0.3:
        event = synth.reverberate(event, rng, SR, rt60=float(rng.uniform(0.2, 0.8)),
                                  drr_db=float(rng.uniform(0.0, 10.0)))
    if rng.random() < 0.3:
        if rng.random() < 0.5:
            sos = signal.butter(2, rng.uniform(2500, 7000), "lowpass", fs=SR, output="sos")
        else:
            sos = signal.butter(2, rng.uniform(100, 400), "highpass", fs=SR, output="sos")
        event = signal.sosfilt(sos, event)
    return event


_context: dict = {}


def _setup(data: str, side: int) -> None:
    items = [r for r in recordings.read(data) if r.side == side]
    _context["street"] = street_of(Path(data), side)
    _context["negatives"] = [r.path for r in items if r.label == "none"]


def examples(task) -> list[tuple[np.ndarray, str, str]]:
    """The labelled figures of one task: (kind, source, label, seed)."""
    kind, source, label, seed = task
    rng = np.random.default_rng(seed)
    street = _context["street"]
    if kind == "synth" and label == "music":
        clip, _ = synth.music_scene(rng, 10.0, sample_rate=SR)
        found = labelled(candidates(clip), "none", None)
    elif kind == "synth":
        clip, info = synth.scene(rng, label, seconds=7.0)
        span = (info["offset"] / SR, 7.0) if label in EVENTS else None
        found = labelled(candidates(clip), label, span)
    else:
        event = recordings.load(source)
        if rng.random() < 0.5 and label != "none":
            other = recordings.load(_context["negatives"][
                int(rng.integers(len(_context["negatives"])))])
            bed = continuous([street[:SR * 3], other, street[-SR * 3:]])
        else:
            bed = street
        clip, span, share = mixture(augmented(event, rng) if label != "none" else event, bed,
                                    float(rng.uniform(0, 25)), rng,
                                    shift=float(rng.uniform(0, 0.5)))
        found = labelled(candidates(clip), label,
                         span if label != "none" else None, clip, share)
    return [(c.window, c.label, f"{kind}:{source}") for c in found if c.label is not None]


def tasks(data: Path, side: int, variants: int, synthetic: int) -> list:
    items = [r for r in recordings.read(data) if r.side == side]
    out = []
    seed = 1000 * side
    for r in items:
        copies = variants if r.label in EVENTS else 2
        for _ in range(copies):
            seed += 1
            out.append(("real", str(r.path), r.label, seed))
    for i in range(synthetic):
        for label in (*EVENTS, "distractor"):
            out.append(("synth", f"{label}-{i}", label, SYNTH_SEED + len(out)))
    for i in range(synthetic):  # music: its beats are onsets, none of them an event
        out.append(("synth", f"music-{i}", "music", SYNTH_SEED + len(out)))
    return out


def recording_weights(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """A long recording gives many candidates: within a class, every recording counts alike,
    however many candidates it gives."""
    keys = np.char.add(np.char.add(groups.astype(str), "|"), y.astype(str))
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


BLEND_WEIGHTS = (0.3, 0.5, 0.7)  # of the network, against the trees
SYNTHETIC_SHARE = 0.5  # of a class's weight, at most, for the generated scenes
STREET_WEIGHT = 3.0  # the street's candidates ("none"), against each event class


def weights_of(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Recordings weighted as above, the generated scenes half of each class at most, the
    event classes counting alike and the street ``STREET_WEIGHT`` times as much."""
    weights = recording_weights(y, groups)
    generated = np.char.startswith(groups.astype(str), "synth:")
    for label in CLASSES:
        mine, real = (y == label) & generated, (y == label) & ~generated
        if mine.any() and real.any():
            weights[mine] *= min(1.0, SYNTHETIC_SHARE / (1 - SYNTHETIC_SHARE)
                                 * weights[real].sum() / weights[mine].sum())
    for label in CLASSES:
        mask = y == label
        if mask.any():
            weights[mask] *= len(y) / (len(CLASSES) * weights[mask].sum())
    weights[y == "none"] *= STREET_WEIGHT
    return weights


def fitted(x, y, groups, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=400, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, random_state=seed)
    return model.fit(x, y, sample_weight=weights_of(y, groups))


def out_of_fold(x, images, y, groups, seed: int, epochs: int) -> tuple[np.ndarray, ...]:
    """The probabilities of the trees and of the network (None without one) for every
    candidate, each from models learned without its third of the recordings (grouped by
    ``source_recording``, so that variants of one clip, and slices of one recording, never sit
    on both sides)."""
    from sklearn.model_selection import GroupKFold

    trees = np.zeros((len(y), len(CLASSES)))
    net = np.zeros((len(y), len(CLASSES))) if epochs else None
    sources = np.array([source_recording(g) for g in groups])
    for fold, (train, test) in enumerate(GroupKFold(3).split(x, y, sources)):
        model = fitted(x[train], y[train], groups[train], seed)
        order = [list(model.classes_).index(c) for c in CLASSES]
        trees[test] = model.predict_proba(x[test])[:, order]
        if epochs:
            learned = sound_network.learned_ensemble(
                images[train], y[train], weights_of(y[train], groups[train]), seed + fold, epochs)
            net[test] = sound_network.probabilities(learned, images[test])
        print(f"  fold {fold + 1} of 3 learned", flush=True)
    return trees, net


def blend(trees: np.ndarray, net: np.ndarray | None, weight: float) -> np.ndarray:
    return trees if net is None else judge.blend(trees, net, weight)


def calibration(oof: np.ndarray, y, groups) -> dict:
    """Per class, a map from the blended probability to the observed frequency, fitted on the
    out-of-fold probabilities (Platt's logistic map on the log-odds: smooth and strictly
    increasing, so that calibration never ties two candidates the model told apart); as a
    table of points to interpolate."""
    from sklearn.linear_model import LogisticRegression

    maps = {}
    weights = recording_weights(y, groups)
    grid = 1 / (1 + np.exp(-np.linspace(-14, 14, 141)))
    for index, label in enumerate(CLASSES):
        if label == "none":
            continue
        odds = _logit(oof[:, index])[:, None]
        # A tight tolerance: the fit runs to convergence rather than stopping wherever a loose
        # rule lets it, so that the same command rebuilds the same map.
        platt = LogisticRegression(C=100.0, tol=1e-10, max_iter=10_000).fit(
            odds, y == label, sample_weight=weights)
        mapped = platt.predict_proba(_logit(grid)[:, None])[:, 1]
        maps[label] = (np.concatenate(([0.0], np.round(grid, 8), [1.0])),
                       np.concatenate(([0.0], np.round(mapped, 6), [1.0])))
    return maps


def operating(oof, y, groups, hours: float, budget: float):
    """Calibration maps and thresholds of ``oof`` probabilities, the mean out-of-fold recall of
    the classes at their thresholds (real candidates only), and a line per class to print."""
    maps = calibration(oof, y, groups)
    thresholds, recalls, lines = {}, [], []
    real = ~np.char.startswith(groups.astype(str), "synth:")
    for index, label in enumerate(EVENTS):
        score = np.interp(oof[:, index], *maps[label])
        thresholds[label] = threshold_for(score[real], (y == label)[real], hours, budget)
        called = (score >= thresholds[label]) & real
        truth = (y == label) & real
        tp = int(np.sum(called & truth))
        recalls.append(tp / max(1, truth.sum()))
        lines.append(f"  out of fold, {label:10s} threshold {thresholds[label]:.3f}: precision "
                     f"{tp / max(1, called.sum()):.3f}, recall {recalls[-1]:.3f} (real "
                     f"candidates), false calls {np.sum(called & ~truth & real) / hours:.2f} "
                     f"per hour of the {hours:.1f} h of mixtures of real recordings")
    return maps, thresholds, float(np.mean(recalls)), lines


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def audio_hours(data: Path, side: int, variants: int, synthetic: int) -> float:
    """How long the training mixtures of real recordings last, all together."""
    seconds = 0.0
    for r in recordings.read(data):
        if r.side == side:
            copies = variants if r.label in EVENTS else 2
            seconds += copies * (r.seconds + LEAD + TAIL + 0.25)
    return seconds / 3600


def threshold_for(score: np.ndarray, truth: np.ndarray, hours: float, budget: float) -> float:
    """The lowest calibrated score, from 0.5 up in steps of 0.001, at which candidates of
    anything else (the street, another event) are called this class no more than ``budget``
    times per hour of the mixtures. (The calibrated scores crowd near 1: coarser steps would
    leave the budget far from spent.)"""
    for step in range(500, 1000):
        threshold = step / 1000
        if np.sum((score >= threshold) & ~truth) / hours <= budget:
            return threshold
    return 0.999


def command(argv: list[str]) -> str:
    """The command that rebuilds the model, without what does not change it (where the
    harvest is kept, how many processes harvest)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--cache", "--workers"):
            skip = True
        elif not arg.startswith(("--cache=", "--workers=")):
            kept.append(arg)
    return " ".join(["bench/train_sounds.py", *kept])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--side", type=int, choices=(1, 2), default=1)
    parser.add_argument("--variants", type=int, default=12)
    parser.add_argument("--synthetic", type=int, default=150,
                        help="generated scenes per class")
    parser.add_argument("--alarms", type=float, default=0.7,
                        help="false calls per hour allowed to each class, out of fold (0.7: "
                             "four over the six hours of mixtures of a side)")
    parser.add_argument("--out", type=Path, default=judge.MODEL)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=sound_network.EPOCHS,
                        help="of the network's learning; 0: the trees alone (no PyTorch needed)")
    parser.add_argument("--cache", type=Path, help="keep the harvested figures in this .npz")
    args = parser.parse_args()

    began = time.time()
    if args.cache and args.cache.exists():
        saved = dict(np.load(args.cache, allow_pickle=False))
    else:
        work = tasks(args.data, args.side, args.variants, args.synthetic)
        with Pool(args.workers, _setup, (str(args.data), args.side)) as pool:
            rows = [row for found in pool.imap(examples, work, chunksize=4) for row in found]
        saved = {"mel": np.array([r[0][0] for r in rows]),
                 "background": np.array([r[0][1] for r in rows]),
                 "pitch": np.array([r[0][2] for r in rows]),
                 "extras": np.array([[r[0][3].get(k, np.nan) for k in judge.EXTRAS]
                                     for r in rows]),
                 "y": np.array([r[1] for r in rows]), "groups": np.array([r[2] for r in rows])}
        if args.cache:
            np.savez(args.cache, **saved)
    # The candidates' windows are kept, not their figures: the figures are computed here by
    # the same function the analysis uses.
    x = np.array([judge.features(m, b, p, dict(zip(judge.EXTRAS, e))) for m, b, p, e in zip(
        saved["mel"], saved["background"], saved["pitch"], saved["extras"])])
    y, groups = saved["y"], saved["groups"]
    print(f"side {args.side}: {len(y)} candidates "
          + ", ".join(f"{c} {int(np.sum(y == c))}" for c in CLASSES)
          + f" ({time.time() - began:.0f} s)")

    hours = audio_hours(args.data, args.side, args.variants, args.synthetic)
    images = np.array([judge.image(m, b) for m, b in zip(saved["mel"], saved["background"])])
    trees, net = out_of_fold(x, images, y, groups, args.seed, args.epochs)
    # The blend's weight is chosen here, out of fold on this side, by the mean recall at the
    # thresholds: never on the side the benchmark measures.
    points = {w: operating(blend(trees, net, w), y, groups, hours, args.alarms)
              for w in (BLEND_WEIGHTS if net is not None else (0.0,))}
    weight = max(points, key=lambda w: points[w][2])
    if net is not None:
        print(f"  network's weight in the blend: {weight}")
    maps, thresholds, _, lines = points[weight]
    print("\n".join(lines))
    model = fitted(x, y, groups, args.seed)
    exported = judge.from_sklearn(model, maps, thresholds, x.shape[1])
    check = exported.probabilities(x[:200])
    order = [list(model.classes_).index(c) for c in exported.classes]
    assert np.allclose(check, model.predict_proba(x[:200])[:, order], atol=1e-6)
    if net is not None:
        onnx = args.out.with_suffix(".onnx")
        learned = sound_network.learned_ensemble(images, y, weights_of(y, groups), args.seed,
                                                 args.epochs)
        sound_network.export(learned, onnx, images.shape[1:])
        exported = dataclasses.replace(exported, network=onnx, network_weight=weight,
                                       network_classes=sound_network.CLASSES)
        # The exported pair gives what was learned, in the trees' order of classes.
        same = sound_network.probabilities(learned, images[:200])[:, [
            sound_network.CLASSES.index(c) for c in exported.classes]]
        mine = [exported.blended(x[i], images[i]) for i in range(200)]
        assert np.allclose(blend(check, same, weight), mine, atol=1e-4)
    import sklearn

    exported.save(args.out, {
        "data": "real recordings of ../shared/data/sounds (UrbanSound8K folds, glass breaks, "
                "screams, speech, street ambience; see its README and labels.csv), side "
                f"{args.side} only, plus generated scenes (devices/acoustics/synth.py)",
        "command": command(sys.argv[1:]),
        "candidates": {c: int(np.sum(y == c)) for c in CLASSES},
        "scikit_learn": sklearn.__version__,
        **({"network": f"{sound_network.SEEDS} networks of {args.epochs} epochs "
                       f"(bench/sound_network.py), PyTorch {sound_network.version()}, weight "
                       f"{weight} in the blend"} if net is not None else {}),
    })
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} "
          f"({args.out.stat().st_size // 1024} KiB) in {time.time() - began:.0f} s")


if __name__ == "__main__":
    main()
