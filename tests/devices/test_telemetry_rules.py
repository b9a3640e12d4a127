"""Threshold rules over sensor telemetry: aggregations, time windows, durations, buckets.

Pure Python: no database, no Django.
"""

import math
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from devices.telemetry_rules import (
    AGGREGATIONS,
    EXAMPLE_NIGHT_NOISE_RULE,
    Rule,
    RuleError,
    TimeWindow,
    bucket,
    evaluate,
    leq,
    maximum,
    mean,
    minimum,
)

PARIS = ZoneInfo("Europe/Paris")
UTC = UTC
SECOND = timedelta(seconds=1)


def at(*args, tz=PARIS):
    return datetime(*args, tzinfo=tz)


def readings_until(end, count, value, step=1):
    """``count`` readings every ``step`` seconds, the last one at ``end``, oldest first.

    ``value`` is a number or a function of the reading's time.
    """
    times = [end - timedelta(seconds=step * k) for k in reversed(range(count))]
    return [(t, value(t) if callable(value) else value) for t in times]


# --- Aggregations ----------------------------------------------------------------------------


def test_leq_of_60_and_70_is_the_energetic_mean():
    assert leq([60, 70]) == pytest.approx(67.4036, abs=1e-4)
    assert leq([70, 60]) == pytest.approx(67.4036, abs=1e-4)


@pytest.mark.parametrize("level", [0.0, 35.5, 70.0, 75.0, 130.0])
def test_leq_of_equal_values_is_that_value(level):
    assert leq([level] * 7) == pytest.approx(level, abs=1e-9)


def test_leq_does_not_overflow_on_large_values():
    assert leq([5000, 5000]) == pytest.approx(5000.0)
    assert leq([5000, 4000]) == pytest.approx(5000 + 10 * math.log10(0.5))


def test_other_aggregations():
    values = [3.0, 1.0, 2.0, 6.0]
    assert mean(values) == 3.0
    assert maximum(values) == 6.0
    assert minimum(values) == 1.0
    assert AGGREGATIONS["instant"](values) == 6.0
    assert AGGREGATIONS["leq"]([60, 70]) == leq([60, 70])
    assert set(AGGREGATIONS) == {"instant", "mean", "leq", "max", "min"}


@pytest.mark.parametrize("name", ["instant", "mean", "leq", "max", "min"])
def test_aggregating_nothing_is_an_error(name):
    with pytest.raises(ValueError):
        AGGREGATIONS[name]([])


# --- The shipped example: night-time noise -----------------------------------------------------


def test_example_rule_is_leq_10_min_above_70_at_night():
    rule = EXAMPLE_NIGHT_NOISE_RULE
    assert (rule.comparison, rule.threshold, rule.aggregation) == (">", 70.0, "leq")
    assert (rule.window_seconds, rule.duration_seconds) == (600, 600)
    assert rule.time_window == TimeWindow(time(22), time(7))


def test_example_rule_triggers_at_night_with_ten_loud_minutes():
    now = at(2024, 6, 12, 23, 30)
    readings = readings_until(now, 600, 75.0)  # 23:20:01 … 23:30:00 at 1 Hz

    result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)

    assert result.triggered is True
    assert result.value == pytest.approx(75.0)
    assert result.samples == 600
    assert result.held_since == at(2024, 6, 12, 23, 20, 1)
    assert "condition remplie" in result.reason


def test_example_rule_triggers_with_one_reading_a_minute():
    now = at(2024, 6, 12, 23, 30)
    readings = readings_until(now, 10, 75.0, step=60)  # 23:21 … 23:30

    result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)

    assert result.triggered is True
    assert result.samples == 10
    assert result.held_since == at(2024, 6, 12, 23, 21)


def test_example_rule_does_not_trigger_in_the_afternoon():
    now = at(2024, 6, 12, 15, 0)
    readings = readings_until(now, 600, 75.0)

    result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)

    assert result.triggered is False
    assert result.held_since is None
    assert "hors plage horaire" in result.reason
    assert result.value == pytest.approx(75.0)  # still given, for information
    assert result.samples == 600


def test_example_rule_needs_ten_minutes_of_data():
    now = at(2024, 6, 12, 23, 30)
    readings = readings_until(now, 300, 75.0)  # only 23:25:01 … 23:30:00

    result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)

    assert result.triggered is False
    assert result.value == pytest.approx(75.0)
    assert result.samples == 300
    assert result.held_since == at(2024, 6, 12, 23, 25, 1)
    assert "seulement" in result.reason


def test_one_loud_minute_among_quiet_ones_stays_below_the_threshold():
    now = at(2024, 6, 12, 23, 30)
    loud_from = now - timedelta(minutes=1)
    readings = readings_until(now, 600, lambda t: 78.0 if t > loud_from else 55.0)
    assert max(v for _, v in readings) > 70

    result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)

    # 10·log10(0.1·10^7.8 + 0.9·10^5.5)
    assert result.value == pytest.approx(68.1916, abs=1e-4)
    assert result.triggered is False
    assert result.held_since is None
    assert "non remplie" in result.reason

    instant_rule = Rule("noise", ">", 70, "leq", 600)
    assert evaluate(instant_rule, readings, now, PARIS).triggered is False


def test_readings_may_come_unsorted():
    now = at(2024, 6, 12, 23, 30)
    readings = readings_until(now, 600, 75.0)
    shuffled = readings[::2] + readings[1::2][::-1]

    result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, shuffled, now, PARIS)

    assert result.triggered is True
    assert result.held_since == at(2024, 6, 12, 23, 20, 1)


# --- Duration and coverage ---------------------------------------------------------------------


def test_a_dip_restarts_the_duration():
    """Mean over 60 s above 50 for 300 s; a 2-minute dip to 30 ends at now - 300 s."""
    rule = Rule("noise", ">", 50, "mean", window_seconds=60, duration_seconds=300)
    now = at(2024, 6, 12, 12, 0)
    dip = (now - timedelta(seconds=420), now - timedelta(seconds=300))

    def value(t):
        return 30.0 if dip[0] < t <= dip[1] else 60.0

    readings = readings_until(now, 900, value)
    result = evaluate(rule, readings, now, PARIS)
    # k seconds after the dip the mean is 30 + k/2: above 50 from k = 41.
    assert result.held_since == now - timedelta(seconds=259)
    assert result.value == pytest.approx(60.0)
    assert result.triggered is False

    later = now + timedelta(seconds=41)
    readings += [(now + SECOND * k, 60.0) for k in range(1, 42)]
    result = evaluate(rule, readings, later, PARIS)
    assert result.held_since == now - timedelta(seconds=259)
    assert result.triggered is True  # held 300 s, give or take the 1 s sampling tolerance


def test_a_gap_longer_than_the_window_restarts_the_duration():
    rule = Rule("noise", ">", 50, "mean", window_seconds=60, duration_seconds=300)
    now = at(2024, 6, 12, 12, 0)
    before_gap = readings_until(now - timedelta(seconds=600), 301, 60.0)
    after_gap = readings_until(now, 120, 60.0)

    result = evaluate(rule, before_gap + after_gap, now, PARIS)

    assert result.held_since == now - timedelta(seconds=119)
    assert result.triggered is False


def test_a_reading_leaving_the_window_is_an_evaluation_point():
    """Max over 60 s: between readings, the loud one at -180 s expires at -120 s, leaving 50."""
    rule = Rule("noise", ">", 70, "max", window_seconds=60, duration_seconds=180)
    now = at(2024, 6, 12, 12, 0)
    offsets = {240: 80.0, 210: 80.0, 180: 80.0, 150: 50.0, 100: 80.0, 50: 80.0, 0: 80.0}
    readings = [(now - timedelta(seconds=s), v) for s, v in offsets.items()]

    result = evaluate(rule, readings, now, PARIS)

    # At every reading time the max over 60 s is 80, but on (-120 s, -100 s) it is 50.
    assert result.held_since == now - timedelta(seconds=100)
    assert result.value == 80.0
    assert result.samples == 2
    assert result.triggered is False


def test_duration_counts_the_time_the_condition_held():
    rule = Rule("pm25", ">=", 25, "mean", window_seconds=300, duration_seconds=900)
    now = at(2024, 6, 12, 12, 0)
    readings = readings_until(now, 31, 30.0, step=60)  # every minute for 30 minutes

    result = evaluate(rule, readings, now, PARIS)

    assert result.triggered is True
    assert result.held_since == now - timedelta(minutes=30)
    assert result.samples == 5
    assert result.value == pytest.approx(30.0)


def test_no_reading_in_the_window():
    now = at(2024, 6, 12, 23, 30)
    too_old = readings_until(now - timedelta(minutes=15), 300, 80.0)

    for readings in ([], too_old):
        result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)
        assert result.triggered is False
        assert result.value is None
        assert result.held_since is None
        assert result.samples == 0
        assert "aucune mesure" in result.reason


def test_future_and_non_finite_readings_are_ignored():
    rule = Rule("noise", ">", 70, "leq", window_seconds=60)
    now = at(2024, 6, 12, 23, 30)
    readings = [
        (now - SECOND * 10, 72.0),
        (now - SECOND * 5, float("nan")),
        (now - SECOND * 2, float("inf")),
        (now + SECOND * 5, 120.0),
    ]

    result = evaluate(rule, readings, now, PARIS)

    assert result.triggered is True
    assert result.value == pytest.approx(72.0)
    assert result.samples == 1


def test_naive_datetimes_are_refused():
    naive = datetime(2024, 6, 12, 23, 30)
    with pytest.raises(ValueError):
        evaluate(EXAMPLE_NIGHT_NOISE_RULE, [], naive, PARIS)
    with pytest.raises(ValueError):
        evaluate(EXAMPLE_NIGHT_NOISE_RULE, [(naive, 75.0)], at(2024, 6, 12, 23, 30), PARIS)


@pytest.mark.parametrize(("aggregation", "spike", "quiet"), [
    ("leq", 150.0, 20.0),  # energies 10^-13 of the spike's: subtracting prefix sums loses digits
    ("leq", 5000.0, 20.0),  # energies underflow to 0 relative to the spike's
    ("mean", 1e17, 0.1),  # 1e17 + 0.1 == 1e17 in floating point
])
def test_a_huge_old_value_does_not_spoil_later_windows(aggregation, spike, quiet):
    """Prefix sums are recomputed where subtracting them would lose the window's digits."""
    now = at(2024, 6, 12, 12, 0)
    readings = [(now - timedelta(hours=1), spike)] + readings_until(now, 600, quiet)
    rule = Rule("noise", "<", 30, aggregation, window_seconds=600, duration_seconds=600)

    result = evaluate(rule, readings, now, PARIS)

    assert result.value == pytest.approx(quiet, rel=1e-12)
    assert result.triggered is True
    assert result.held_since == now - SECOND * 599


# --- Instant values and low thresholds -------------------------------------------------------


def test_instant_takes_the_latest_reading():
    rule = Rule("pm25", ">=", 25, "instant", window_seconds=0)
    now = at(2024, 6, 12, 12, 0)
    readings = [(now - SECOND * 60, 40.0), (now, 30.0), (now - SECOND * 120, 10.0)]

    result = evaluate(rule, readings, now, PARIS)

    assert result.triggered is True
    assert result.value == 30.0
    assert result.samples == 1
    assert result.held_since == now - SECOND * 60

    result = evaluate(rule, readings, now - SECOND * 90, PARIS)
    assert result.triggered is False
    assert result.value == 10.0


def test_people_counter_below_one_for_five_minutes():
    rule = Rule("people", "<", 1, "instant", window_seconds=0, duration_seconds=300)
    now = at(2024, 6, 12, 3, 0)
    empty_street = readings_until(now, 11, 0.0, step=60)

    result = evaluate(rule, empty_street, now, PARIS)
    assert result.triggered is True
    assert result.value == 0.0
    assert result.held_since == now - timedelta(minutes=10)

    someone = [(t, 2.0 if t == now - timedelta(minutes=2) else v) for t, v in empty_street]
    result = evaluate(rule, someone, now, PARIS)
    assert result.triggered is False
    assert result.held_since == now - timedelta(minutes=1)

    result = evaluate(rule, [(now, 3.0)], now, PARIS)
    assert result.triggered is False
    assert result.value == 3.0
    assert result.held_since is None


def test_mean_at_or_below_a_low_threshold():
    rule = Rule("people", "<=", 0.5, "mean", window_seconds=300)
    now = at(2024, 6, 12, 3, 0)
    readings = [(now - SECOND * 240, 0.0), (now - SECOND * 120, 1.0), (now, 0.5)]

    result = evaluate(rule, readings, now, PARIS)

    assert result.value == pytest.approx(0.5)
    assert result.triggered is True


# --- Time windows ------------------------------------------------------------------------------

MONDAY_NIGHT = TimeWindow(time(22), time(7), days=frozenset({0}))


@pytest.mark.parametrize(("moment", "inside"), [
    (at(2024, 1, 16, 2, 0), True),  # Tuesday 02:00: the window started Monday 22:00
    (at(2024, 1, 15, 2, 0), False),  # Monday 02:00: that window started on Sunday
    (at(2024, 1, 15, 22, 0), True),  # start included
    (at(2024, 1, 15, 23, 59), True),
    (at(2024, 1, 16, 6, 59, 59), True),
    (at(2024, 1, 16, 7, 0), False),  # end excluded
    (at(2024, 1, 16, 23, 0), False),  # Tuesday evening
    (at(2024, 1, 15, 12, 0), False),  # Monday noon
    (at(2024, 1, 15, 21, 30, tz=UTC), True),  # 22:30 in Paris (UTC+1 in winter)
    (at(2024, 1, 15, 20, 30, tz=UTC), False),  # 21:30 in Paris
])
def test_midnight_crossing_window_applies_days_to_the_start(moment, inside):
    assert MONDAY_NIGHT.contains(moment, PARIS) is inside


def test_daytime_and_all_day_windows():
    office = TimeWindow(time(8), time(18), days=frozenset(range(5)))
    assert office.contains(at(2024, 1, 15, 8, 0), PARIS) is True
    assert office.contains(at(2024, 1, 15, 18, 0), PARIS) is False
    assert office.contains(at(2024, 1, 20, 12, 0), PARIS) is False  # Saturday

    weekend = TimeWindow(time(0), time(0), days=frozenset({5, 6}))
    assert weekend.contains(at(2024, 1, 20, 0, 0), PARIS) is True
    assert weekend.contains(at(2024, 1, 21, 23, 59), PARIS) is True
    assert weekend.contains(at(2024, 1, 19, 12, 0), PARIS) is False

    assert TimeWindow(time(22), time(7), days=[0, 1]).days == frozenset({0, 1})
    assert MONDAY_NIGHT.describe() == "22:00–07:00 (lun)"


def test_night_rule_over_the_spring_dst_change():
    """Europe/Paris, 31 March 2024: 02:00 CET becomes 03:00 CEST (01:00 UTC)."""
    start = at(2024, 3, 31, 0, 0, tz=UTC)  # 01:00 CET
    readings = readings_until(start + timedelta(hours=2), 7201, 75.0)

    for minutes in range(0, 121, 10):
        now = start + timedelta(minutes=minutes)
        result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)
        assert result.triggered is (minutes >= 10)
        assert result.value == pytest.approx(75.0)

    now = at(2024, 3, 31, 1, 30, tz=UTC)  # 03:30 CEST
    result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)
    assert result.held_since == start
    assert result.held_since.utcoffset() == timedelta(hours=1)  # given in Paris time, CET

    skipped_hour = TimeWindow(time(2), time(3))
    assert skipped_hour.contains(at(2024, 3, 31, 0, 59, 59, tz=UTC), PARIS) is False
    assert skipped_hour.contains(at(2024, 3, 31, 1, 0, tz=UTC), PARIS) is False


def test_night_rule_over_the_autumn_dst_change():
    """Europe/Paris, 27 October 2024: 03:00 CEST becomes 02:00 CET; 02:30 happens twice."""
    repeated_hour = TimeWindow(time(2), time(3))
    first, second = at(2024, 10, 27, 0, 30, tz=UTC), at(2024, 10, 27, 1, 30, tz=UTC)
    assert repeated_hour.contains(first, PARIS) is True
    assert repeated_hour.contains(second, PARIS) is True
    assert repeated_hour.contains(at(2024, 10, 27, 2, 0, tz=UTC), PARIS) is False

    readings = readings_until(second, 7200, 75.0)
    for now in (first, second):
        result = evaluate(EXAMPLE_NIGHT_NOISE_RULE, readings, now, PARIS)
        assert result.triggered is True
        assert result.samples == 600


# --- Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "message"), [
    ({"aggregation": "median"}, "agrégation inconnue « median »"),
    ({"comparison": "=>"}, "comparaison inconnue « => »"),
    ({"comparison": "=="}, "comparaison inconnue"),
    ({"window_seconds": -60}, "fenêtre d'agrégation ne peut pas être négative"),
    ({"duration_seconds": -1}, "durée de maintien ne peut pas être négative"),
    ({"aggregation": "instant", "window_seconds": 60}, "« instant »"),
    ({"window_seconds": 0}, "« leq » exige une fenêtre"),
    ({"aggregation": "max", "window_seconds": 0}, "« max » exige une fenêtre"),
    ({"window_seconds": 1.5}, "nombre entier de secondes"),
    ({"duration_seconds": True}, "nombre entier de secondes"),
    ({"threshold": float("nan")}, "seuil doit être un nombre fini"),
    ({"threshold": "70"}, "seuil doit être un nombre fini"),
    ({"metric": " "}, "métrique"),
    ({"time_window": (time(22), time(7))}, "plage horaire"),
])
def test_invalid_rules_are_refused(changes, message):
    fields = {"metric": "noise", "comparison": ">", "threshold": 70, "aggregation": "leq",
              "window_seconds": 600, "duration_seconds": 600, "time_window": None}
    fields.update(changes)
    with pytest.raises(RuleError, match=message):
        Rule(**fields)


@pytest.mark.parametrize(("arguments", "message"), [
    ((time(22), time(7), frozenset({7})), "jours invalides"),
    ((time(22), time(7), frozenset({-1, 2})), "jours invalides"),
    ((time(22), time(7), frozenset()), "au moins un jour"),
    (("22:00", time(7)), "heure de début"),
    ((time(22), time(7, tzinfo=UTC)), "fuseau horaire"),
])
def test_invalid_time_windows_are_refused(arguments, message):
    with pytest.raises(RuleError, match=message):
        TimeWindow(*arguments)


def test_rule_errors_are_value_errors_and_valid_rules_pass():
    assert issubclass(RuleError, ValueError)
    rule = Rule("people", "<", 1, "instant", 0)
    assert rule.threshold == 1.0 and isinstance(rule.threshold, float)
    assert rule.duration_seconds == 0 and rule.time_window is None
    assert EXAMPLE_NIGHT_NOISE_RULE.describe() == (
        "noise : Leq 10 min > 70 pendant 10 min, 22:00–07:00")


# --- Buckets -----------------------------------------------------------------------------------


def test_buckets_are_aligned_on_the_epoch():
    base = at(2024, 6, 12, 10, 0, tz=UTC)
    readings = [
        (base + SECOND * 90, 70.0),
        (base + SECOND * 5, 60.0),
        (base + SECOND * 59, 70.0),
        (base + SECOND * 60, 50.0),  # on a boundary: starts the second bucket
        (base + SECOND * 190, 40.0),
    ]

    buckets = bucket(readings, 60)

    assert [start for start, _ in buckets] == [base, base + SECOND * 60, base + SECOND * 180]
    first, second, third = (values for _, values in buckets)
    assert first == {
        "start": base, "end": base + SECOND * 60, "count": 2, "mean": 65.0, "min": 60.0,
        "max": 70.0, "leq": pytest.approx(67.4036, abs=1e-4),
    }
    assert (second["count"], second["mean"], second["min"], second["max"]) == (2, 60.0, 50.0, 70.0)
    assert second["leq"] == pytest.approx(67.0329, abs=1e-4)  # 70 + 10·log10(1.01 / 2)
    assert (third["count"], third["leq"]) == (1, pytest.approx(40.0))


def test_buckets_follow_utc_and_odd_sizes():
    # 10:07:30 in Paris on 12 June is 08:07:30 UTC: a quarter-hour bucket starts 08:00 UTC.
    [(start, values)] = bucket([(at(2024, 6, 12, 10, 7, 30), 3.0)], 900)
    assert start == at(2024, 6, 12, 8, 0, tz=UTC)
    assert start.utcoffset() == timedelta(0)
    assert values["count"] == 1

    [(start, _)] = bucket([(datetime.fromtimestamp(100, UTC), 1.0)], 7)
    assert start.timestamp() == 98  # 14 × 7

    assert bucket([], 60) == []


@pytest.mark.parametrize("seconds", [0, -60, 1.5])
def test_bucket_size_must_be_positive(seconds):
    with pytest.raises(ValueError):
        bucket([(at(2024, 6, 12, 10, 0), 1.0)], seconds)


# --- Size -------------------------------------------------------------------------------------


@pytest.mark.parametrize("aggregation", ["leq", "mean", "max", "min"])
def test_an_hour_of_one_hertz_data(aggregation):
    """3600 readings, 600 s window, 600 s duration: runs in linear time (no timing asserted)."""
    now = at(2024, 6, 12, 23, 30)
    readings = readings_until(now, 3600, lambda t: 72.0 + t.second % 7)
    rule = Rule("noise", ">", 70, aggregation, window_seconds=600, duration_seconds=600,
                time_window=TimeWindow(time(22), time(7)))

    result = evaluate(rule, readings, now, PARIS)

    expected = AGGREGATIONS[aggregation]([v for t, v in readings if t > now - SECOND * 600])
    assert result.triggered is True
    assert result.samples == 600
    assert result.value == pytest.approx(expected)
    assert result.held_since == now - SECOND * 3599
