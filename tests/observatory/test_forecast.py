"""The forecast's evaluation (hit rate, PAI) on known cases, the synthetic city's structure,
and the model against the naive baseline on a generated city."""

import numpy as np
import pytest

from demo.city import DIJON_OUTLINE
from observatory import forecast as fc
from observatory import synthetic

OUTLINE = [(lat, lon) for lon, lat in DIJON_OUTLINE]


def test_hit_rate_and_pai_on_a_known_case():
    # 100 cells; the forecast ranks cells 0..4 highest; 5 % of the area is 5 cells.
    scores = np.zeros(100)
    scores[:5] = [5, 4, 3, 2, 1]
    actual = np.zeros(100)
    actual[[0, 1, 2]] = 2  # 6 events in the chosen cells
    actual[[50, 60]] = 2  # 4 elsewhere
    hit, pai = fc.hit_rate_and_pai(scores, actual, share=0.05)
    assert hit == pytest.approx(0.6) and pai == pytest.approx(12.0)
    # A perfect forecast of events all in one cell: every event hit, PAI = 1 / 0.05 = 20.
    one = np.zeros(100)
    one[7] = 9
    assert fc.hit_rate_and_pai(one, one, 0.05) == (1.0, 20.0)
    # No events: nothing to measure.
    assert fc.hit_rate_and_pai(scores, np.zeros(100)) == (0.0, 0.0)


def test_ties_are_broken_by_cell_order_and_the_area_rounds():
    scores = np.array([1.0, 3.0, 3.0, 0.0, 3.0])
    assert list(fc.top_cells(scores, 0.4)) == [1, 2]
    assert list(fc.top_cells(scores, 0.01)) == [1]  # at least one cell


def test_the_poisson_tail():
    assert fc.poisson_tail(0, 2.0) == 1.0
    assert fc.poisson_tail(1, 2.0) == pytest.approx(1 - np.exp(-2))
    assert fc.poisson_tail(10, 1.0) == pytest.approx(1.114e-7, rel=0.01)


@pytest.fixture(scope="module")
def city():
    return synthetic.generate(OUTLINE, seed=11, settings=synthetic.Settings(days=364))


def test_the_synthetic_city_has_hotspots_seasons_and_near_repeats(city):
    counts = np.bincount(city.cell_index, minlength=len(city.cells))
    top = np.sort(counts)[::-1]
    assert top[: len(top) // 20].sum() > 0.15 * counts.sum()  # 5 % of cells: 3 times their share
    hours = fc.hour_of_week(city.times)
    friday_night = np.isin(hours, [4 * 24 + 23, 5 * 24 + 0])
    tuesday_morning = np.isin(hours, [24 + 9, 24 + 10])
    assert friday_night.sum() > 1.5 * tuesday_morning.sum()
    # Near repeats: without excitation, events within a day in the same cell are rarer.
    calm = synthetic.generate(OUTLINE, seed=11, settings=synthetic.Settings(days=364, alpha=0.0))

    def repeats(history):
        same = 0
        for cell in range(len(history.cells)):
            t = history.times[history.cell_index == cell]
            same += np.sum(np.diff(t) < 86400)
        return same / len(history)

    assert repeats(city) > 1.3 * repeats(calm)
    assert len(city.public_events) > 10 and 0.03 < city.rain.mean() < 0.15


def test_the_model_beats_the_naive_baseline_on_held_out_weeks():
    history = synthetic.generate(OUTLINE, seed=2026, settings=synthetic.Settings(days=730))
    spans = {}
    for event in history.public_events:
        spans.setdefault(history.cells.index(event["cell"]), []).append(
            (event["start"], event["end"]))
    events = fc.Events(cells=history.cells, times=history.times,
                       cell_index=history.cell_index, event_cells=spans)
    end = history.start + 730 * 86400
    tests = [end - fc.WEEK * k for k in range(8, 0, -1)]
    model, evaluation = fc.evaluate(events, first_origin=history.start + 8 * fc.WEEK,
                                    test_origins=tests, rain=history.rain,
                                    rain_start=history.start)
    assert evaluation.weeks == 8
    assert evaluation.model_pai > evaluation.baseline_pai
    assert evaluation.model_hit > evaluation.baseline_hit
    # What drives it is what the city was built with: long-run rate and recent nearby events.
    coefficients = dict(zip(fc.FEATURES, model.regressor.coef_))
    assert coefficients["long_rate"] > 0.3 and coefficients["near_7d"] > 0
    # Rain lowers the rate (the generator multiplies it by 0.6).
    assert 0.45 < model.rain_factor < 0.8
    # The hourly forecast spreads each cell's week over the hours.
    neighbours = fc.neighbour_matrix(history.cells)
    hourly = model.hourly(events, neighbours, end)
    assert hourly.shape == (len(history.cells), 168)
    assert np.allclose(hourly.sum(axis=1), model.weekly(events, neighbours, end))
