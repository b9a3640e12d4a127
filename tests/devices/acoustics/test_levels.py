"""Levels: A-weighting, Fast time weighting, octave bands, calibration, per-second reports."""

import math

import numpy as np
import pytest
from scipy import signal

from devices.acoustics.detectors import Analyser
from devices.acoustics.levels import a_weighting_sos, octave_centres

SR = 16000
T0 = 1_768_604_400.0


def tone(freq: float, seconds: float, rms: float, sample_rate: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (rms * math.sqrt(2) * np.sin(2 * math.pi * freq * t)).astype(np.float32)


def levels_of(samples: np.ndarray, sample_rate: int = SR, **options):
    analyser = Analyser(sample_rate, kinds=(), **options)
    levels, _ = analyser.feed(T0, samples)
    return levels


def test_a_1_khz_tone_reads_its_rms_level():
    levels = levels_of(tone(1000, 3.0, 0.01))  # -40 dBFS RMS: 80 dB with a 120 dB calibration

    assert len(levels) == 3
    for second in levels:
        assert second.laeq == pytest.approx(80.0, abs=0.5)
        assert second.lafmax == pytest.approx(80.0, abs=0.5)


def test_the_calibration_sets_what_full_scale_reads():
    levels = levels_of(tone(1000, 2.0, 1 / math.sqrt(2)), calibration_db=94.0)  # 0 dBFS peak

    assert levels[-1].laeq == pytest.approx(94.0 - 3.01, abs=0.5)


def test_100_hz_is_weighted_down_by_about_19_db():
    reference = levels_of(tone(1000, 2.0, 0.01))[-1].laeq
    low = levels_of(tone(100, 2.0, 0.01))[-1].laeq

    assert low - reference == pytest.approx(-19.1, abs=1.0)


@pytest.mark.parametrize("freq, gain", [(31.5, -39.4), (125, -16.1), (500, -3.2), (1000, 0.0),
                                        (2000, 1.2), (4000, 1.0)])
def test_the_a_weighting_filter_follows_the_standard(freq, gain):
    _, response = signal.sosfreqz(a_weighting_sos(48000), worN=[freq], fs=48000)

    assert 20 * math.log10(abs(response[0])) == pytest.approx(gain, abs=0.5)


def test_lafmax_of_a_short_burst_is_that_of_the_fast_time_constant():
    # 50 ms of tone in silence: the 125 ms exponential reaches 1 - exp(-0.4) of the mean square.
    samples = np.zeros(2 * SR, np.float32)
    samples[SR // 2:SR // 2 + SR // 20] = tone(1000, 0.05, 0.01)

    first = levels_of(samples)[0]

    assert first.lafmax == pytest.approx(80.0 + 10 * math.log10(1 - math.exp(-0.4)), abs=0.3)
    # The LAeq spreads the burst over the whole second: 13 dB lower.
    assert first.laeq == pytest.approx(80.0 - 13.0, abs=0.3)


def test_the_octave_band_of_a_1_khz_tone_dominates():
    bands = levels_of(tone(1000, 2.0, 0.01))[-1].bands

    assert sorted(bands) == [63, 125, 250, 500, 1000, 2000, 4000]  # 8 kHz is above Nyquist
    assert bands[1000] == pytest.approx(80.0, abs=1.0)  # unweighted band level
    assert all(bands[1000] - level > 20 for centre, level in bands.items() if centre != 1000)


def test_octave_bands_depend_on_the_sample_rate():
    assert octave_centres(8000) == (63, 125, 250, 500, 1000, 2000)
    assert octave_centres(48000)[-1] == 8000


def test_seconds_start_at_the_stream_start_and_follow_on_across_blocks():
    analyser = Analyser(SR, kinds=())
    samples = tone(500, 3.5, 0.01)
    levels = []
    for start in range(0, len(samples), 4000):
        levels += analyser.feed(T0 + start / SR, samples[start:start + 4000])[0]

    assert [round(second.start - T0, 6) for second in levels] == [0.0, 1.0, 2.0]
    assert analyser.flush() == ([], [])  # the last half second is no full second


def test_silence_reads_a_finite_floor():
    levels = levels_of(np.zeros(SR, np.float32))

    assert math.isfinite(levels[0].laeq) and levels[0].laeq < 10
    assert all(math.isfinite(level) for level in levels[0].bands.values())
