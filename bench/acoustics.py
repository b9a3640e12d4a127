#!/usr/bin/env python
"""Sound analysis benchmark on real recordings: detection quality, calibration, false alarms
per sensor-hour on real street sound, and what one sensor costs in CPU.

    .venv/bin/python bench/acoustics.py                      # the shipped model, side 2
    .venv/bin/python bench/acoustics.py --data /srv/sons     # a city's own recordings

Data: a folder of labelled recordings (``devices/acoustics/recordings``: ``labels.csv`` beside
the audio files), by default ``../shared/data/sounds``. The shipped model was learned on side 1
(``bench/train_sounds.py``); this measures on side ``--side`` (default 2), recordings it never
heard. For the swap, learn on side 2 and measure on side 1 (``--model``).

1. Events: every event recording of the side (detonation, glass, scream) laid on the side's
   half of the real ambience recordings at 0, 10 and 20 dB SNR; every "none" recording (dogs,
   drills, sirens, children, street music, speech...) laid on it the same way, at 0, 10 or 20 dB
   in turn. Each mixture runs through its own ``Analyser`` in 0.25 s blocks, as a sensor
   stream; a clip is predicted as the kinds of the events emitted on it (a clip counts once per
   kind it raised). Precision and recall per class with 95 % Wilson intervals, the recall at
   each SNR (its target is for events 10 dB over the street), and the recall's
   interval again with the source recordings resampled rather than the clips (a recording is
   mixed at three SNRs, and UrbanSound8K cuts one recording into many alike slices: the clips
   are not independent, and the effective sample is the recordings); the ROC AUC of
   each class's score (a clip's highest, 0 without a candidate) against every other clip; the
   calibration of the confidence shown to operators (per band of confidence, the share of
   events that were right).
2. False alarms: the side's ambience and every "none" recording, back to back (0.5 s
   cross-fades), through one ``Analyser``: every detonation, glass or scream event is a false
   alarm. The same run gives the CPU per audio second of a busy real street, hence how many
   sensors one core analyses in real time.

Every mixture is drawn from ``--seed``: the same command gives the same figures.
"""

import argparse
import math
import os
import sys
import time
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np  # noqa: E402
from sound_corpus import (  # noqa: I001 (bench/ is the script's own folder)
    BLOCK,
    DEFAULT_DATA,
    EVENTS,
    SR,
    T0,
    confusion,
    continuous,
    mixture,
    source_recording,
    street_of,
)

from devices.acoustics import judge, recordings  # noqa: E402
from devices.acoustics.detectors import Analyser  # noqa: E402

SNRS = (0.0, 10.0, 20.0)
TARGET_SNR = 10.0  # the recall targets are for events 10 dB over the street
TARGETS = {"detonation": 0.85, "glass": 0.80, "scream": 0.75}
AUC_TARGET = 0.97
ALARMS_TARGET = 1.0  # per sensor-hour
SENSORS_TARGET = 200  # per core
CLASSES = (*EVENTS, "none")

_context: dict = {}


def _setup(data: str, side: int, model: str | None) -> None:
    _context["street"] = street_of(Path(data), side)
    _context["judge"] = judge.load(model) if model else judge.shipped()


def analysed(clip: np.ndarray, model) -> tuple[list, list, float]:
    """Events, judged candidates and CPU seconds of one stream."""
    analyser = Analyser(SR, judge=model)
    analyser._trace = []
    events = []
    cpu = time.process_time()
    for start in range(0, len(clip), BLOCK):
        events += analyser.feed(T0 + start / SR, clip[start:start + BLOCK])[1]
    events += analyser.flush()[1]
    cpu = time.process_time() - cpu
    judged = [t for t in analyser._trace if t.get("detector") == "candidate"]
    return events, judged, cpu


def run_clip(task) -> dict:
    index, path, label, subclass, snr, seed = task
    rng = np.random.default_rng([seed, index])
    clip, span, _ = mixture(recordings.load(path), _context["street"], snr, rng,
                         shift=float(rng.uniform(0, 0.5)))
    events, judged, _ = analysed(clip, _context["judge"])
    scores = {kind: max((t["scores"].get(kind, 0.0) for t in judged), default=0.0)
              for kind in EVENTS}
    return {"label": label, "snr": snr, "source": subclass, "recording": source_recording(path),
            "scores": scores,
            "predicted": sorted({e.kind for e in events if e.kind in EVENTS}),
            "events": [(e.kind, e.confidence, span[0] - 0.15 <= e.start - T0 <= span[1])
                       for e in events if e.kind in EVENTS]}


def run_street(task) -> dict:
    """The side's real street sound end to end: its ambience first, then every "none"
    recording; the alarms with what was playing, every candidate's scores, and the CPU."""
    items, side = task
    parts = [_context["street"]] + [recordings.load(path) for path, _ in items]
    names = ["ambience"] + [subclass for _, subclass in items]
    stream = continuous(parts)
    ends = np.cumsum([len(p) for p in parts]) - np.arange(len(parts)) * int(0.5 * SR)
    events, judged, cpu = analysed(stream, _context["judge"])

    def playing(t: float) -> str:
        return names[min(len(names) - 1, int(np.searchsorted(ends, (t - T0) * SR)))]

    return {"seconds": len(stream) / SR, "cpu": cpu, "ambience": len(parts[0]) / SR,
            "alarms": Counter((e.kind, playing(e.start)) for e in events if e.kind in EVENTS),
            "scores": [t["scores"] for t in judged]}


def wilson(hits: int, total: int) -> tuple[float, float]:
    if not total:
        return math.nan, math.nan
    z, p = 1.96, hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def clustered(hits: list[bool], clusters: list[str], draws: int = 2000) -> tuple[float, float]:
    """95 % interval of a share whose items come in clusters (a recording at three SNRs, the
    slices of one UrbanSound8K recording): the recordings are drawn again with replacement, not
    the clips, so that a family of alike clips weighs as what it is (fixed seed)."""
    if not clusters:
        return math.nan, math.nan
    keys, cluster = np.unique(clusters, return_inverse=True)
    found = np.bincount(cluster, weights=np.asarray(hits, float), minlength=len(keys))
    total = np.bincount(cluster, minlength=len(keys)).astype(float)
    drawn = np.random.default_rng(0).integers(0, len(keys), (draws, len(keys)))
    shares = found[drawn].sum(axis=1) / total[drawn].sum(axis=1)
    return float(np.percentile(shares, 2.5)), float(np.percentile(shares, 97.5))


def auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a positive clip scores above a negative one (ties count half)."""
    if not positive or not negative:
        return math.nan
    neg = np.sort(np.asarray(negative))
    pos = np.asarray(positive)
    below = np.searchsorted(neg, pos, "left")
    equal = np.searchsorted(neg, pos, "right") - below
    return float(np.sum(below + 0.5 * equal) / (len(pos) * len(neg)))


def report(results: list[dict], street: dict) -> bool:
    matrix, rows = confusion(results, CLASSES)
    verdicts = []
    print("\nPer class, all SNRs (95 % Wilson intervals); recall at 0 / 10 / 20 dB (the "
          f"target is for {TARGET_SNR:g} dB); ROC AUC; then the recall's 95 % interval with the "
          "source recordings drawn again, not the clips (the clips of one recording are alike)")
    for kind in EVENTS:
        called = sum(matrix[t][kind] for t in CLASSES)
        hits = matrix[kind][kind]
        precision, recall = hits / max(1, called), hits / max(1, rows[kind])
        p_low, p_high = wilson(hits, called)
        r_low, r_high = wilson(hits, rows[kind])
        mine = [r for r in results if r["label"] == kind]
        c_low, c_high = clustered([kind in r["predicted"] for r in mine],
                                  [r["recording"] for r in mine])
        recorded = len({r["recording"] for r in mine})
        by_snr = []
        for snr in SNRS:
            heard = [r for r in mine if r["snr"] == snr]
            by_snr.append(sum(kind in r["predicted"] for r in heard) / max(1, len(heard)))
        area = auc([r["scores"][kind] for r in mine],
                   [r["scores"][kind] for r in results if r["label"] != kind])
        ok = by_snr[SNRS.index(TARGET_SNR)] >= TARGETS[kind]
        verdicts.append(ok)
        line = (f"  {kind:<11} precision {precision:.3f} [{p_low:.2f}-{p_high:.2f}]  recall "
                f"{recall:.3f} [{r_low:.2f}-{r_high:.2f}]  " + " / ".join(f"{v:.2f}" for v in by_snr)
                + f" (target at {TARGET_SNR:g} dB ≥ {TARGETS[kind]}: {'OK' if ok else 'BELOW'})"
                + f"  AUC {area:.3f}")
        if kind == "detonation":
            verdicts.append(area >= AUC_TARGET)
            line += f" (target ≥ {AUC_TARGET}: {'OK' if area >= AUC_TARGET else 'BELOW'})"
        print(line)
        print(f"{'':<14}{len(mine)} mixtures of {recorded} source recordings; recall with the "
              f"recordings drawn again: [{c_low:.2f}-{c_high:.2f}]")
    wrong = Counter()
    for r in results:
        for kind in r["predicted"]:
            if kind != r["label"]:
                wrong[(kind, r["source"])] += 1
    if wrong:
        print("  false calls by source: " + ", ".join(
            f"{kind} ← {source} {count}" for (kind, source), count in wrong.most_common(12)))

    print("\nCalibration: events by confidence shown, and the share that were right")
    bands = defaultdict(list)
    for r in results:
        for kind, confidence, inside in r["events"]:
            band = min(0.9, math.floor(confidence * 10) / 10)
            bands[band].append(kind == r["label"] and inside)
    for band in sorted(bands):
        right = bands[band]
        print(f"  {band:.1f}-{band + 0.1:.1f}: {len(right):4d} events, "
              f"{sum(right) / len(right):.2f} right")

    hours = street["seconds"] / 3600
    alarms = sum(street["alarms"].values())
    rate = alarms / hours
    verdicts.append(rate <= ALARMS_TARGET)
    print(f"\nFalse alarms over {hours:.2f} h of real street sound (ambience, then every 'none' "
          f"recording): {alarms}, {rate:.2f} per sensor-hour (target ≤ {ALARMS_TARGET:g}: "
          f"{'OK' if rate <= ALARMS_TARGET else 'ABOVE'})")
    quiet = sum(v for (_, source), v in street["alarms"].items() if source == "ambience")
    print(f"  of which over the {street['ambience'] / 60:.1f} min of ambience recordings: {quiet}")
    if alarms:
        print("  " + ", ".join(f"{kind} ← {source} {count}"
                               for (kind, source), count in street["alarms"].most_common()))
    print("  operating points (a candidate called when its class scores at least t): "
          "recall of the clips / false alarms per hour of street")
    for t in (0.5, 0.7, 0.8, 0.9, 0.95):
        cells = []
        for kind in EVENTS:
            mine = [r for r in results if r["label"] == kind]
            recall = sum(r["scores"][kind] >= t for r in mine) / max(1, len(mine))
            false = sum(s.get(kind, 0.0) >= t for s in street["scores"]) / hours
            cells.append(f"{kind} {recall:.2f} / {false:.1f}")
        print(f"    t = {t:.2f}: " + ", ".join(cells))
    per_second = street["cpu"] / street["seconds"]
    sensors = 1 / per_second
    verdicts.append(sensors >= SENSORS_TARGET)
    print(f"Cost over that stream: {per_second * 1000:.2f} ms CPU per audio second, "
          f"{sensors:.0f} sensors per core in real time (target ≥ {SENSORS_TARGET}: "
          f"{'OK' if sensors >= SENSORS_TARGET else 'BELOW'})")
    return all(verdicts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--side", type=int, choices=(1, 2), default=2)
    parser.add_argument("--model", help="a judge model file (default: the shipped one)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()

    try:
        items = [r for r in recordings.read(args.data) if r.side == args.side]
    except recordings.DataError as error:
        sys.exit(str(error))
    tasks = []
    for r in items:
        if r.label in EVENTS:
            tasks += [(len(tasks), str(r.path), r.label, r.subclass, snr, args.seed)
                      for snr in SNRS]
        elif r.label == "none":
            tasks.append((len(tasks), str(r.path), "none", r.subclass, SNRS[len(tasks) % 3],
                          args.seed))
    negatives = [(str(r.path), r.subclass) for r in items if r.label == "none"]
    print(f"{args.data} side {args.side}: {len(tasks)} mixtures "
          f"({', '.join(f'{k} {v}' for k, v in Counter(t[2] for t in tasks).items())}), "
          f"model {args.model or judge.MODEL.name}, seed {args.seed}, {args.workers} workers")
    started = time.perf_counter()
    with Pool(args.workers, _setup, (str(args.data), args.side, args.model)) as pool:
        street = pool.apply_async(run_street, ((negatives, args.side),))
        results = pool.map(run_clip, tasks, chunksize=4)
        street = street.get()
    print(f"analysed in {time.perf_counter() - started:.0f} s")
    ok = report(results, street)
    print("\nverdict: " + ("all targets met" if ok else "some targets not met (see above)"))


if __name__ == "__main__":
    main()
