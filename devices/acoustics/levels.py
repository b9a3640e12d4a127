"""Sound levels: A-weighting, Fast time weighting, octave bands, and the per-hop front end.

Everything downstream works on *hops* of 20 ms (``sample_rate // 50`` samples): a second is
exactly 50 hops, so per-second levels are sums of hop figures, and whatever block sizes the
samples arrive in, the same sample always falls in the same hop. The front end is stateful
(filters, partial hop) so that splitting a stream differently gives the same figures.
"""

import math

import numpy as np
from scipy import signal

OCTAVE_CENTRES = (63, 125, 250, 500, 1000, 2000, 4000, 8000)
HOPS_PER_SECOND = 50
SUBHOPS = 4  # 5 ms sub-hops: the time resolution of onset detection before sample refinement
FAST_SECONDS = 0.125
TINY = 1e-12  # mean square of "silence": 120 dB below full scale


def db(mean_square: float, calibration_db: float) -> float:
    """Level of a mean square (of full-scale samples), with the sensor's calibration."""
    return 10.0 * math.log10(max(mean_square, TINY)) + calibration_db


def a_weighting_sos(sample_rate: int) -> np.ndarray:
    """IEC 61672 A-weighting as a digital filter (bilinear transform), 0 dB at 1 kHz.

    The bilinear transform bends the response near Nyquist (at 16 kHz it falls short by a few
    dB above 5 kHz): harmless for street sounds, whose A-weighted energy lies lower.
    """
    f1, f2, f3, f4 = 20.598997, 107.65265, 737.86223, 12194.217
    poles = [-2 * math.pi * f for f in (f1, f1, f4, f4, f2, f3)]
    zeros = [0.0] * 4
    z, p, k = signal.bilinear_zpk(zeros, poles, 1.0, sample_rate)
    sos = signal.zpk2sos(z, p, k)
    _, response = signal.sosfreqz(sos, worN=[1000.0], fs=sample_rate)
    sos[0, :3] /= abs(response[0])
    return sos


def octave_centres(sample_rate: int) -> tuple[int, ...]:
    """The octave bands whose upper edge (centre x sqrt 2) is below Nyquist."""
    return tuple(c for c in OCTAVE_CENTRES if c * math.sqrt(2) <= sample_rate / 2)


def band_matrix(sample_rate: int, bins: int, ranges) -> np.ndarray:
    """A (bins x len(ranges)) 0/1 matrix summing rfft power bins into [low, high) Hz bands."""
    freqs = np.fft.rfftfreq(2 * (bins - 1), 1 / sample_rate)
    matrix = np.zeros((bins, len(ranges)))
    for column, (low, high) in enumerate(ranges):
        matrix[(freqs >= low) & (freqs < high), column] = 1.0
    return matrix


def octave_matrix(sample_rate: int, bins: int) -> tuple[tuple[int, ...], np.ndarray]:
    centres = octave_centres(sample_rate)
    ranges = [(c / math.sqrt(2), c * math.sqrt(2)) for c in centres]
    return centres, band_matrix(sample_rate, bins, ranges)


class HopBatch:
    """Measurements of consecutive complete hops (``index`` is the first one's number).

    ``energy``: sum of squared A-weighted samples per hop; ``sub``: the same per 5 ms sub-hop
    (hops x 4); ``flat_sub``: the same unweighted (low-frequency blasts, which A-weighting
    hides); ``high_sub``: the same for the samples' first difference, a +6 dB/octave tilt that
    lets the high frequencies (breaking glass in a rumble) dominate; ``fast``: highest Fast
    mean square in the hop; ``power``: power spectrum of the 40 ms Hann frame ending with the
    hop (hops x bins), scaled so that it sums to the frame's mean square; ``samples``:
    the raw samples of these hops.
    """

    __slots__ = ("index", "energy", "sub", "flat_sub", "high_sub", "fast", "power", "samples")

    def __init__(self, index, energy, sub, flat_sub, high_sub, fast, power, samples):
        self.index = index
        self.energy = energy
        self.sub = sub
        self.flat_sub = flat_sub
        self.high_sub = high_sub
        self.fast = fast
        self.power = power
        self.samples = samples

    def __len__(self) -> int:
        return len(self.energy)


class FrontEnd:
    """Samples in, per-hop measurements out: the only stage that touches every sample.

    Costs one A-weighting filter, one first-order Fast smoother and one rfft per hop; all of it
    vectorised over the hops a block completes.
    """

    def __init__(self, sample_rate: int):
        if sample_rate % HOPS_PER_SECOND or sample_rate < 8000:
            raise ValueError(f"Fréquence d'échantillonnage non prise en charge : {sample_rate} Hz "
                             f"(multiple de {HOPS_PER_SECOND} Hz, 8 kHz au moins, attendu).")
        self.sample_rate = sample_rate
        self.hop = sample_rate // HOPS_PER_SECOND
        self.frame = 2 * self.hop
        self.bins = self.hop + 1
        self._sos = a_weighting_sos(sample_rate)
        self._alpha = 1.0 - math.exp(-1.0 / (FAST_SECONDS * sample_rate))
        window = signal.get_window("hann", self.frame, fftbins=True)
        self._window = window.astype(np.float32)
        # One-sided power, scaled by Parseval so that the bins sum to the frame's mean square.
        scale = np.full(self.bins, 2.0 / (self.frame * float(np.sum(window ** 2))))
        scale[0] /= 2
        scale[-1] /= 2
        self._scale = scale
        self._sub_starts = np.array([round(j * self.hop / SUBHOPS) for j in range(SUBHOPS)])
        self.reset()

    def reset(self) -> None:
        self._zi = np.zeros((self._sos.shape[0], 2))
        self._last = 0.0  # the previous block's last sample, for the first difference
        self._fast_zi = np.zeros(1)
        empty = np.zeros(0)
        self._pending = (empty.astype(np.float32), empty, empty, empty)  # raw, A², Fast, HF²
        self._previous = np.zeros(self.hop, np.float32)
        self.hops = 0

    def process(self, samples: np.ndarray) -> HopBatch | None:
        """Feed samples; return the hops they complete (None if none)."""
        raw = np.asarray(samples, np.float32)
        wide = raw.astype(np.float64)
        weighted, self._zi = signal.sosfilt(self._sos, wide, zi=self._zi)
        squared = weighted * weighted
        high = np.diff(wide, prepend=self._last)
        high *= high
        self._last = float(wide[-1]) if len(wide) else self._last
        fast, self._fast_zi = signal.lfilter([self._alpha], [1.0, self._alpha - 1.0], squared,
                                             zi=self._fast_zi)
        if len(self._pending[0]):
            old_raw, old_squared, old_fast, old_high = self._pending
            raw = np.concatenate((old_raw, raw))
            squared = np.concatenate((old_squared, squared))
            fast = np.concatenate((old_fast, fast))
            high = np.concatenate((old_high, high))
        count = len(raw) // self.hop
        used = count * self.hop
        self._pending = (raw[used:], squared[used:], fast[used:], high[used:])
        if not count:
            return None
        hops = raw[:used].reshape(count, self.hop)
        starts = (np.arange(count)[:, None] * self.hop + self._sub_starts).ravel()
        sub = np.add.reduceat(squared[:used], starts).reshape(count, SUBHOPS)
        flat = hops.astype(np.float64).reshape(-1)
        flat_sub = np.add.reduceat(flat * flat, starts).reshape(count, SUBHOPS)
        high_sub = np.add.reduceat(high[:used], starts).reshape(count, SUBHOPS)
        fast = fast[:used].reshape(count, self.hop).max(axis=1)
        # Frame i is hop i-1 followed by hop i.
        before = np.concatenate((self._previous[None, :], hops[:-1]))
        frames = np.concatenate((before, hops), axis=1)
        spectrum = np.fft.rfft(frames * self._window, axis=1)
        power = (spectrum.real ** 2 + spectrum.imag ** 2) * self._scale
        self._previous = hops[-1]
        raw = raw[:used]
        batch = HopBatch(self.hops, sub.sum(axis=1), sub, flat_sub, high_sub, fast, power, raw)
        self.hops += count
        return batch
