"""The learned judge: its tree evaluator against scikit-learn's, the shipped model's file, and
what it calls on a few real recordings (held out from its training) laid on a real street."""

import functools
from pathlib import Path

import numpy as np
import pytest

from devices.acoustics import judge, recordings, synth
from devices.acoustics.detectors import Analyser

SR = 16000
T0 = 1_768_604_400.0
SOUNDS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sounds"


def test_the_exported_trees_give_scikit_learns_probabilities():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 6))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing figures take their learned branch
    y = np.array(["none", "detonation", "glass", "scream"])[
        (np.nan_to_num(x[:, 0]) > 0) + 2 * (np.nan_to_num(x[:, 1]) > 0.5)]
    fitted = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    identity = {c: (np.array([0.0, 1.0]), np.array([0.0, 1.0])) for c in fitted.classes_}

    model = judge.from_sklearn(fitted, identity, {"detonation": 0.5}, 6)
    again = judge.Model.from_dict(model.as_dict())

    order = [list(fitted.classes_).index(c) for c in again.classes]
    assert np.allclose(again.probabilities(x), fitted.predict_proba(x)[:, order], atol=1e-9)


def test_the_shipped_model_says_what_it_was_learned_on_and_is_calibrated():
    import json

    data = json.loads(judge.MODEL.read_text(encoding="utf-8"))
    assert "side 1 only" in data["provenance"]["data"]
    model = judge.shipped()
    assert set(model.classes) == {"detonation", "glass", "scream", "none"}
    for label, (xs, ys) in model.calibration.items():
        assert np.all(np.diff(ys) >= 0), label  # a higher score never means less likely
        assert 0.0 <= ys.min() and ys.max() <= 1.0
    assert judge.MODEL.stat().st_size < 4 * 1024 * 1024


def test_the_shipped_network_is_blended_with_the_trees_and_sees_the_spectrogram():
    model = judge.shipped()
    assert model.network is not None and model.network.is_file()
    assert model.network.stat().st_size < 1024 * 1024
    assert 0.0 < model.network_weight < 1.0
    rng = np.random.default_rng(3)
    background = np.full(judge.MEL_BANDS, 1e-4)
    quiet = np.tile(background, (judge.WINDOW, 1))
    burst = quiet.copy()
    burst[judge.LEAD:judge.LEAD + 6] *= 10 ** (40 / 10) * rng.uniform(0.5, 2, (6, judge.MEL_BANDS))
    figures = np.zeros(model.features)
    trees = model.blended(figures, None)
    seen = [model.blended(figures, judge.image(mel, background)) for mel in (quiet, burst)]
    for p in seen:
        assert p.shape == (len(model.classes),) and np.isclose(p.sum(), 1.0)
    # The same figures with different spectrograms: the network moves the verdict.
    assert not np.allclose(seen[0], seen[1], atol=1e-3)
    assert not np.allclose(trees, seen[1], atol=1e-3)


def test_every_figure_is_finite_on_silence_and_on_a_short_stream():
    analyser = Analyser(SR)
    analyser.harvest = True
    analyser._trace = []
    clip = np.zeros(SR * 3, np.float32)
    clip[int(2.9 * SR):] = np.random.default_rng(1).normal(0, 0.3, int(0.1 * SR))
    analyser.feed(T0, clip)
    analyser.flush()
    [candidate] = [t for t in analyser._trace if t.get("detector") == "candidate"]
    figures = candidate["figures"]
    assert len(figures) == judge.shipped().features
    assert np.all(np.isfinite(figures[:-len(judge.EXTRAS)]))


# --- real recordings ----------------------------------------------------------------------------

needs_sounds = pytest.mark.skipif(
    not (SOUNDS / "labels.csv").is_file(),
    reason=f"the real recordings are not there ({SOUNDS}): see ../shared/data/README.md")


def _held_out(subclass: str, count: int) -> list[recordings.Recording]:
    """Recordings of a subclass on side 2, which the model never heard: the first slice of each
    of the first ``count`` source recordings (UrbanSound8K names a slice ``<source>-...``)."""
    seen, found = set(), []
    for r in recordings.read(SOUNDS):
        source = r.path.name.split("-")[0]
        if r.subclass == subclass and r.side == 2 and source not in seen:
            seen.add(source)
            found.append(r)
    return found[:count]


@functools.cache
def _street() -> np.ndarray:
    return np.concatenate([recordings.side_audio(r, 2) for r in recordings.read(SOUNDS)
                           if r.subclass == "ambience"])


def _kinds_on_a_street(recording: recordings.Recording, snr_db: float) -> set[str]:
    street = _street()
    event = recordings.load(recording.path)
    bed = street[:int(4.5 * SR) + len(event)].astype(np.float64)
    clip = synth.mix(event, bed, snr_db, int(2.5 * SR))
    analyser = Analyser(SR)
    events = []
    for start in range(0, len(clip), SR // 4):
        events += analyser.feed(T0 + start / SR, clip[start:start + SR // 4])[1]
    events += analyser.flush()[1]
    return {e.kind for e in events}


@needs_sounds
def test_real_gunshots_are_called_detonations():
    # One shot from each of the twelve held-out source recordings, 20 dB over a real street:
    # the benchmark measures about two in three found at this SNR (automatic fire and distant
    # shots, families the model never heard, are missed); here 8 of 12 are; fewer than seven is
    # a regression.
    found = [_kinds_on_a_street(r, 20.0) for r in _held_out("gun_shot", 12)]
    assert sum("detonation" in kinds for kinds in found) >= 7, found


@needs_sounds
@pytest.mark.parametrize("subclass", ["siren", "dog_bark", "conversation"])
def test_real_sirens_dogs_and_speech_are_not_detonations(subclass):
    found = [_kinds_on_a_street(r, 10.0) for r in _held_out(subclass, 3)]
    assert not any("detonation" in kinds for kinds in found), found
