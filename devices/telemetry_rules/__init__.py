"""Threshold rules over street-sensor telemetry, in pure Python (no Django).

Sensors report readings such as noise levels in dB(A), people counts or PM2.5 concentrations in
µg/m³. An administrator defines rules such as "noise Leq over 10 min above 70 dB(A) between
22:00 and 07:00, every day" and the Django side loads readings, calls :func:`evaluate`, and raises
an alert (deduplicated while the condition holds) when the evaluation says ``triggered``.

Vocabulary:

* a *reading* is ``(aware datetime, value)``; readings may come unsorted, values that are not
  finite numbers (NaN, ±inf) are ignored;
* the *aggregate at a moment t* is the rule's aggregation over the readings whose time lies in
  ``(t - window_seconds, t]`` ("instant": the value of the latest reading at or before ``t``);
  it is undefined (``None``) when that window holds no reading;
* the *condition* is ``aggregate <comparison> threshold``; it does not hold where the aggregate
  is undefined.

Duration and coverage semantics (``duration_seconds > 0``) are described in :func:`evaluate`.

Only the standard library is used, so the module can be tested and reused without a database.
"""

from devices.telemetry_rules.evaluation import Evaluation, bucket, evaluate
from devices.telemetry_rules.rules import (
    AGGREGATIONS,
    ALL_DAYS,
    COMPARISONS,
    EXAMPLE_NIGHT_NOISE_RULE,
    Reading,
    Rule,
    RuleError,
    TimeWindow,
    instant,
    leq,
    maximum,
    mean,
    minimum,
)

__all__ = [
    "AGGREGATIONS",
    "ALL_DAYS",
    "COMPARISONS",
    "EXAMPLE_NIGHT_NOISE_RULE",
    "Evaluation",
    "Reading",
    "Rule",
    "RuleError",
    "TimeWindow",
    "bucket",
    "evaluate",
    "instant",
    "leq",
    "maximum",
    "mean",
    "minimum",
]
