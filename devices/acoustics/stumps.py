"""Boosted decision stumps: a small learned judge over an impulse's hand-made figures.

Gentle AdaBoost (Friedman, Hastie and Tibshirani, 2000): each round fits the one-feature
threshold that best predicts the weighted labels (+1 / -1) by the weighted mean of each side,
then weights the samples up where the ensemble is still wrong. A missing figure (NaN) takes a
third branch of its own. The model is a list of ``(feature, threshold, below, above, missing)``
rows: plain data, stored as JSON beside the code, read without any learning library.

Fitting is done offline by ``bench/train_impulses.py`` on generated clips whose seeds are kept
apart from the benchmark's evaluation set; nothing is learned at run time.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Stumps:
    features: tuple[str, ...]
    rows: tuple[tuple[int, float, float, float, float], ...]
    threshold: float = 0.0

    def score(self, figures: dict) -> float:
        """The ensemble's score for one sound: above ``threshold``, it is of the kind."""
        total = 0.0
        for feature, cut, below, above, missing in self.rows:
            value = figures.get(self.features[feature], math.nan)
            if value is None or value != value:
                total += missing
            else:
                total += below if value <= cut else above
        return total

    def confidence(self, score: float) -> float:
        """0.5 at the threshold, towards 1 as the score grows (gentle boosting's scores are
        half log-odds)."""
        return 1.0 / (1.0 + math.exp(-2.0 * (score - self.threshold)))

    def as_dict(self) -> dict:
        return {"features": list(self.features), "threshold": self.threshold,
                "rows": [list(row) for row in self.rows]}

    @classmethod
    def from_dict(cls, data: dict) -> "Stumps":
        return cls(tuple(data["features"]),
                   tuple((int(f), float(t), float(b), float(a), float(m))
                         for f, t, b, a, m in data["rows"]),
                   float(data.get("threshold", 0.0)))


def fit(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], rounds: int = 80,
        cuts: int = 40, weights: np.ndarray | None = None) -> Stumps:
    """Fit ``rounds`` stumps to samples ``x`` (n x features, NaN allowed) and labels ``y``
    (true for the kind). Candidate thresholds are ``cuts`` quantiles of each feature.
    ``weights``: how much each sample counts at the start (all alike if not given)."""
    n, m = x.shape
    signs = np.where(y, 1.0, -1.0)
    weights = np.full(n, 1.0) if weights is None else np.asarray(weights, np.float64)
    weights = weights / weights.sum()
    candidates = []
    for j in range(m):
        column = x[:, j]
        finite = column[~np.isnan(column)]
        candidates.append(np.unique(np.percentile(finite, np.linspace(2, 98, cuts)))
                          if len(finite) else np.array([]))
    missing = np.isnan(x)
    rows = []
    for _ in range(rounds):
        best = None
        for j in range(m):
            column = np.where(missing[:, j], np.inf, x[:, j])
            gone = missing[:, j]
            w_gone, wy_gone = weights[gone].sum(), (weights * signs)[gone].sum()
            c = wy_gone / w_gone if w_gone > 0 else 0.0
            order = np.argsort(column, kind="stable")
            sorted_col = column[order]
            cum_w = np.cumsum(weights[order])
            cum_wy = np.cumsum((weights * signs)[order])
            present_w = cum_w[-1] - w_gone
            present_wy = cum_wy[-1] - wy_gone
            for cut in candidates[j]:
                k = int(np.searchsorted(sorted_col, cut, side="right"))
                w_below = cum_w[k - 1] if k else 0.0
                wy_below = cum_wy[k - 1] if k else 0.0
                w_above, wy_above = present_w - w_below, present_wy - wy_below
                below = wy_below / w_below if w_below > 0 else 0.0
                above = wy_above / w_above if w_above > 0 else 0.0
                # Weighted squared error, up to a constant: sum w y^2 - sum w f^2 per branch.
                gain = below * wy_below + above * wy_above + c * wy_gone
                if best is None or gain > best[0]:
                    best = (gain, j, float(cut), below, above, c)
        _, j, cut, below, above, c = best
        column = x[:, j]
        prediction = np.where(missing[:, j], c, np.where(column <= cut, below, above))
        rows.append((j, cut, float(below), float(above), float(c)))
        weights = weights * np.exp(-signs * prediction)
        weights /= weights.sum()
    return Stumps(tuple(features), tuple(rows))


def load(path: Path) -> dict[str, Stumps]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {kind: Stumps.from_dict(model) for kind, model in data["models"].items()}
