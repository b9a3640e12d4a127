"""The learned impulse judge: boosted stumps fit, score and round-trip; the shipped model."""

import json
import math

import numpy as np
import pytest

from devices.acoustics import stumps
from devices.acoustics.detectors import IMPULSE_FEATURES, IMPULSE_MODEL, impulse_models


def test_stumps_learn_a_rule_on_two_features_and_ignore_noise():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, (600, 3))
    y = (x[:, 0] > 6) & (x[:, 2] < 4)  # the second feature is noise
    model = stumps.fit(x, y, ("a", "noise", "c"), rounds=30)

    predicted = np.array([model.score({"a": a, "noise": b, "c": c}) > 0 for a, b, c in x])
    assert np.mean(predicted == y) > 0.97
    used = {model.features[row[0]] for row in model.rows}
    assert {"a", "c"} <= used
    assert model.score({"a": 9, "noise": 1, "c": 1}) > 0 > model.score({"a": 1, "noise": 1, "c": 9})


def test_a_missing_figure_takes_its_own_branch():
    x = np.array([[1.0], [2.0], [np.nan], [np.nan], [8.0], [9.0]])
    y = np.array([False, False, True, True, True, True])
    model = stumps.fit(x, y, ("a",), rounds=5)
    assert model.score({"a": math.nan}) > 0 > model.score({"a": 1.5})
    assert model.score({}) == model.score({"a": math.nan})


def test_a_model_round_trips_through_json_and_confidence_is_half_at_its_threshold():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(100, 2))
    model = stumps.fit(x, x[:, 0] > 0, ("a", "b"), rounds=8)
    again = stumps.Stumps.from_dict(json.loads(json.dumps(model.as_dict())))
    assert again == model
    assert model.confidence(model.threshold) == pytest.approx(0.5)
    assert model.confidence(model.threshold + 2) > 0.95


def test_the_shipped_model_judges_the_analysers_figures():
    data = json.loads(IMPULSE_MODEL.read_text(encoding="utf-8"))
    assert 2026 not in data["trained_on"]["seeds"]  # the benchmark's evaluation seed
    models = impulse_models()
    assert set(models) == {"detonation", "glass"}
    for model in models.values():
        assert model.features == IMPULSE_FEATURES
        assert len(model.rows) >= 20
