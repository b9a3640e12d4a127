"""Streaming detection of suspicious street sounds: detonations, screams, breaking glass, and
loud music at night; plus per-second levels.

One ``Analyser`` per sensor. Samples go through the front end (``levels.FrontEnd``) once, as
20 ms hops; everything else works on per-hop figures: A-weighted energy in 5 ms sub-hops,
the power spectrum of a 40 ms frame, and what is derived from it (band energies, a pitch
estimate, the flatness of the high band). The background is tracked per frequency bin, so that
every detector measures how far a sound stands above *this* street's usual sound.

Impulses (detonation, glass) share one detector: an abrupt rise of the A-weighted energy opens
a 0.6 s look at what follows, then the sound is judged on its whole shape (broadband crack and
smooth noisy decay for a detonation; high ringing partials and tinkling shards for glass), and
its onset is refined on the samples to the millisecond. Screams are runs of high-pitched
harmonic frames whose pitch moves. Music is a second-by-second verdict (loud enough, with a
steady kick drum) that must hold for minutes.

No audio is stored: a ring of a couple of seconds of samples (for onset refinement and the
optional classifier) and a few seconds of per-hop figures, whatever the stream's length.
"""

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from . import stumps
from .classifier import Classifier
from .levels import (
    HOPS_PER_SECOND,
    SUBHOPS,
    FrontEnd,
    HopBatch,
    band_matrix,
    db,
    octave_matrix,
)
from .types import KINDS, Levels, SoundEvent

GAP_TOLERANCE = 0.02  # seconds: farther than that from the expected time, a block starts over
GROUP = 25  # hops (0.5 s) between updates of the background estimate
HISTORY = 8 * HOPS_PER_SECOND  # hops of per-hop figures kept for event summaries
RING_SECONDS = 2.0  # samples kept for onset refinement (more if the classifier needs it)
PIECE = 4000  # the longest piece of a block analysed at once (a quarter second at 16 kHz)
TINY = 1e-20
MUSIC_BEAT = 0.35  # beat strength above which the street is taken to have music playing


@dataclass(frozen=True)
class MusicSettings:
    """When loud music is a nuisance worth an event.

    ``threshold_db``: the LAeq, second by second, that the music must exceed. 65 dB(A) at a
    street sensor is music clearly heard from the street at night, some 20 dB above a quiet
    night-time street (French noise limits for bars add at most 3 dB to the ambient at night
    inside homes; at the facade, 65 dB(A) of amplified music is unmistakably a "tapage").
    ``min_seconds``: how long it must last ("over minutes"). ``active``: given a sensor time,
    whether the night window is on (None: always).
    """

    threshold_db: float = 65.0
    min_seconds: float = 120.0
    active: Callable[[float], bool] | None = None
    quiet_seconds: float = 30.0  # without music for this long, an episode is over


# Detection bands, Hz: (low, high); "top" is 94 % of Nyquist, above which the A-weighting and
# the sensors' anti-aliasing filters leave little.
_BANDS = {"bb": (100, "top"), "lo": (50, 300), "mid": (300, 2000), "hi": (2000, "top"),
          "vb": (300, 5000), "beat": (40, 300)}


class Analyser:
    """Levels and sound events of one sensor's stream (see the module's docstring).

    ``calibration_db``: the level a full-scale RMS signal reads. ``kinds``: the built-in
    detectors to run (any of KINDS). ``classifier``: an optional model run on the last
    ``window_seconds`` of audio every half window; each episode of a label scoring at least the
    classifier's ``threshold`` (0.5 if it has none) gives one event of that label.
    """

    def __init__(self, sample_rate: int = 16000, *, calibration_db: float = 120.0,
                 kinds: Iterable[str] = KINDS, music: MusicSettings = MusicSettings(),
                 classifier: Classifier | None = None):
        self.sample_rate = int(sample_rate)
        self.calibration_db = float(calibration_db)
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise ValueError(f"Type(s) de son inconnu(s) : {', '.join(sorted(unknown))}")
        self.music = music
        self.classifier = classifier
        self._front = FrontEnd(self.sample_rate)
        self.hop = self._front.hop
        bins = self._front.bins
        top = 0.47 * self.sample_rate
        ranges = [(low, top if high == "top" else min(high, top)) for low, high in _BANDS.values()]
        self._bands = band_matrix(self.sample_rate, bins, ranges)
        self.octaves, self._octave_matrix = octave_matrix(self.sample_rate, bins)
        self._all_bands = np.concatenate((self._bands, self._octave_matrix), axis=1)
        freqs = np.fft.rfftfreq(self._front.frame, 1 / self.sample_rate)
        self._voice_bins = ((freqs >= 250) & (freqs <= min(5000, top))).astype(np.float64)
        self._high = (np.searchsorted(freqs, 1500), np.searchsorted(freqs, top))
        self._smoother = np.ones(9) / 9
        self._bin_hz = freqs[1]
        self._bin_freqs = freqs
        window = signal.get_window("hann", self._front.frame)
        window_acf = np.correlate(window, window, "full")[len(window) - 1:]
        self._lags = (max(2, int(self.sample_rate / 5000)), int(self.sample_rate / 80))
        low, high = self._lags
        # The window's own autocorrelation tapers long lags: undone, so all periods compare.
        self._window_gain = window_acf[0] / window_acf[low - 1:high + 2]
        ring = RING_SECONDS
        if classifier is not None:
            ring = max(ring, float(classifier.window_seconds) + 0.5)
        self._ring_size = int(ring * self.sample_rate)
        self._trace: list | None = None  # tuning aid: receives the figures of every decision
        self.reset()

    # --- stream handling ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything about the stream (a new one starts with the next block)."""
        self._front.reset()
        self._origin: float | None = None
        self._samples = 0
        self._ring = np.zeros(0, np.float32)
        self._ring_start = 0  # stream index of the ring's first sample
        self._floor = _Background()
        self._history = _History(HISTORY, len(self.octaves))
        self._second = _SecondAccumulator(len(self.octaves))
        self._impulses = _Impulses(self)
        self._screams = _Screams(self)
        self._music = _Music(self)
        self._classified = _Classified(self)

    def feed(self, t0: float, samples: np.ndarray) -> tuple[list[Levels], list[SoundEvent]]:
        """Analyse a block of mono samples in [-1, 1]; ``t0`` is the sensor time of the first.

        Returns the levels of the seconds this block completes and the events decided in it.
        A block that does not follow the previous one (more than 20 ms of gap or overlap)
        starts a new stream: events pending in the old one are decided first.
        """
        samples = np.asarray(samples, np.float32).reshape(-1)
        levels: list[Levels] = []
        events: list[SoundEvent] = []
        if self._origin is not None:
            expected = self._origin + self._samples / self.sample_rate
            if abs(float(t0) - expected) > GAP_TOLERANCE:
                # A music episode outlives a short break (the next analysis window, a few lost
                # frames): it is measured in sensor time, so it carries over to the new stream.
                episode, origin = self._music.episode, self._origin
                _, pending = self.flush()
                events.extend(pending)
                self.reset()
                if episode is not None and 0 < float(t0) - expected <= self.music.quiet_seconds:
                    shift = round((float(t0) - origin) * self.sample_rate / self.hop)
                    self._music.episode = {**episode, "start_hop": episode["start_hop"] - shift}
        if self._origin is None:
            self._origin = float(t0)
        if not len(samples):
            return levels, events
        # Long blocks are taken a quarter second at a time, so that the ring of recent samples
        # still holds what the detectors look back at: the same result whatever the blocks.
        for start in range(0, len(samples), PIECE):
            piece = samples[start:start + PIECE]
            self._samples += len(piece)
            self._ring = np.concatenate((self._ring, piece))
            excess = len(self._ring) - self._ring_size
            if excess > 0:
                self._ring = self._ring[excess:]
                self._ring_start += excess
            batch = self._front.process(piece)
            if batch is not None:
                self._process(batch, levels, events)
        return levels, events

    def flush(self) -> tuple[list[Levels], list[SoundEvent]]:
        """End of stream: decide the events still pending (an incomplete second has no levels).
        The analyser is then ready for a new stream."""
        events: list[SoundEvent] = []
        if self._origin is not None:
            hop = self._front.hops
            events.extend(self._impulses.finish(hop))
            events.extend(self._screams.finish(hop))
            events.extend(self._music.finish(hop))
            events.extend(self._classified.finish(hop))
        self.reset()
        return [], sorted(events, key=lambda e: e.start)

    # --- per-hop analysis -----------------------------------------------------------------------

    def time_of(self, sample: float) -> float:
        return self._origin + sample / self.sample_rate

    def _process(self, batch: HopBatch, levels: list, events: list) -> None:
        start = 0
        while start < len(batch):
            index = batch.index + start
            end = min(len(batch), start + GROUP - index % GROUP)
            self._segment(batch, start, end, levels, events)
            start = end

    def _segment(self, batch: HopBatch, start: int, end: int, levels: list,
                 events: list) -> None:
        """Hops ``start:end`` of the batch, all in one background group (and one second)."""
        first = batch.index + start
        power = batch.power[start:end]
        energy = batch.energy[start:end]
        fast = batch.fast[start:end]
        sub = batch.sub[start:end]
        subs = np.stack((sub, batch.flat_sub[start:end], batch.high_sub[start:end]))
        energies = subs.sum(axis=2).T  # hops x 3
        both = power @ self._all_bands
        bands, octaves = both[:, :len(_BANDS)], both[:, len(_BANDS):]
        self._history.put(first, energy, fast, octaves)
        floor = self._floor
        if floor.bins is None:  # the stream's first hops: their own mean is the background
            floor.start(power, energies)
        floor_bands = floor.bins @ self._bands
        feats = _Features(bands, floor_bands, subs, floor.energies / SUBHOPS)
        feats.power = power
        if "scream" in self.kinds:
            feats.pitch(self, power, floor.bins)
        if "glass" in self.kinds or "detonation" in self.kinds:
            events.extend(self._impulses.run(first, feats))
        if "scream" in self.kinds:
            events.extend(self._screams.run(first, feats))
        self._music.onsets(bands[:, 5])
        if self.classifier is not None:
            events.extend(self._classified.run(first, end - start))
        second = self._second
        second.add(energy, fast, octaves)
        if second.hops == HOPS_PER_SECOND:
            level = second.levels(self.time_of((first + end - start) * self.hop) - 1.0,
                                  self.hop, self.calibration_db, self.octaves)
            levels.append(level)
            music = self._music.second(first + end - start, level, second)
            if "music" in self.kinds:
                events.extend(music)
            second.clear()
        floor.add(power, energies)
        if (first + end - start) % GROUP == 0:
            floor.update()

    # --- shared helpers for the detectors -------------------------------------------------------

    def summary(self, kind: str, start_sample: float, end_sample: float, first_hop: int,
                last_hop: int, confidence: float) -> SoundEvent:
        """An event over hops ``first_hop..last_hop`` (inclusive), from the per-hop history."""
        energy, fast, octaves = self._history.span(first_hop, last_hop)
        return self.event(kind, start_sample, end_sample, confidence, float(np.sum(energy)),
                          len(energy), float(np.max(fast)), np.mean(octaves, axis=0))

    def event(self, kind: str, start_sample: float, end_sample: float, confidence: float,
              energy: float, hops: int, fast: float, octaves: np.ndarray) -> SoundEvent:
        cal = self.calibration_db
        return SoundEvent(
            kind=kind, start=self.time_of(start_sample), end=self.time_of(end_sample),
            confidence=round(float(min(1.0, max(0.0, confidence))), 3),
            peak_db=round(db(fast, cal), 2),
            laeq_db=round(db(energy / max(1, hops * self.hop), cal), 2),
            bands={c: round(db(float(v), cal), 1) for c, v in zip(self.octaves, octaves)})

    def recent_samples(self, first: int, last: int) -> np.ndarray | None:
        """Stream samples ``first:last`` if the ring still holds them."""
        if first < self._ring_start or last > self._ring_start + len(self._ring):
            return None
        return self._ring[first - self._ring_start:last - self._ring_start]

    def trace(self, **figures) -> None:
        if self._trace is not None:
            self._trace.append(figures)


class _Features:
    """Per-hop figures of one segment, as Python lists for the detectors' loops."""

    def __init__(self, bands, floor_bands, subs, floor_subs):
        self.count = len(bands)
        self.bands = bands
        self.floor_bands = floor_bands
        self.subs = subs  # 3 x hops x 4: A-weighted, unweighted, above 2 kHz
        self.floor_subs = floor_subs
        self.floor_sub = float(floor_subs[0])
        self.f0 = self.voicing = self.richness = self.comb = None
        self.power = None

    def pitch(self, analyser: Analyser, power: np.ndarray, floor_bins: np.ndarray) -> None:
        """Pitch and voicing per hop: the autocorrelation of the whitened spectrum.

        Dividing by the background spectrum turns the street's noise into white noise, whose
        autocorrelation vanishes away from lag 0: what remains periodic is a harmonic sound
        above the background, and the height of the peak (the voicing, 0..1) grows with its
        harmonics-to-noise ratio. Among the peaks within 90 % of the highest, the shortest
        period wins (an octave too low is the usual error otherwise). Only hops whose voice
        band rises above the background are analysed: the others cannot hold a cry.
        """
        count = len(power)
        self.f0 = [0.0] * count
        self.voicing = [0.0] * count
        self.richness = [0.0] * count
        self.comb = [0.0] * count
        rows = np.flatnonzero(self.bands[:, 4] >= self.floor_bands[4] * _Screams.EXCESS)
        if not len(rows):
            return
        white = power[rows] / floor_bins * analyser._voice_bins
        acf = np.fft.irfft(white, n=analyser._front.frame, axis=1)
        low, high = analyser._lags
        r = acf[:, low - 1:high + 2] / (acf[:, :1] + TINY) * analyser._window_gain
        middle = r[:, 1:-1]
        peaks = (middle >= r[:, :-2]) & (middle >= r[:, 2:]) & (middle > 0)
        heights = np.where(peaks, middle, 0.0)
        best = heights.max(axis=1)
        index = np.argmax(heights >= 0.9 * best[:, None], axis=1)
        at = np.arange(len(r))
        y0, y1, y2 = r[at, index], r[at, index + 1], r[at, index + 2]
        denominator = y0 - 2 * y1 + y2
        safe = np.where(np.abs(denominator) > 1e-9, denominator, 1.0)
        shift = np.clip(np.where(np.abs(denominator) > 1e-9, 0.5 * (y0 - y2) / safe, 0.0),
                        -0.5, 0.5)
        f0 = analyser.sample_rate / (low + index + shift)
        voicing = np.where(best > 0, y1, 0.0)
        for row, pitch, strength in zip(rows.tolist(), f0.tolist(), voicing.tolist()):
            self.f0[row], self.voicing[row] = pitch, strength
        low_f0, high_f0 = _Screams.F0
        keep = (voicing >= _Screams.VOICING) & (f0 >= low_f0) & (f0 <= high_f0)
        if not keep.any():
            return
        rows, f0 = rows[keep], f0[keep]
        # Harmonicity: the participation ratio of the first four harmonics' energy above the
        # background, 1 for a lone partial (squeal, whistle, a bird, ringing metal), up to 4.
        clean = np.maximum(power[rows] - floor_bins, 0.0)
        bins = clean.shape[1]
        centre = np.rint(f0[:, None] * np.arange(1, 5) / analyser._bin_hz).astype(int)
        near = np.clip(centre[:, :, None] + np.arange(-1, 2), 0, bins - 1)
        harmonic = np.take_along_axis(clean, near.reshape(len(clean), -1), axis=1)
        harmonic = harmonic.reshape(len(clean), 4, 3).sum(axis=2)
        richness = harmonic.sum(axis=1) ** 2 / ((harmonic ** 2).sum(axis=1) + TINY)
        # Share of the voice band's energy (above the background) lying on the harmonics of the
        # pitch found: low when the "pitch" is a formant of a lower voice, or a wrong octave.
        ratio = analyser._bin_freqs[None, :] / f0[:, None]
        on_comb = np.abs(ratio - np.rint(ratio)) * f0[:, None] <= 1.5 * analyser._bin_hz
        band = clean * analyser._voice_bins
        comb = (band * on_comb).sum(axis=1) / (band.sum(axis=1) + TINY)
        for row, rich, share in zip(rows.tolist(), richness.tolist(), comb.tolist()):
            self.richness[row], self.comb[row] = rich, share

    def tonality(self, analyser: Analyser, row: int) -> float:
        """Share of the energy above 1.5 kHz of one hop held by narrow peaks (bins four times
        the spectrum smoothed over 225 Hz): under 0.1 for any noise, however coloured; most
        of it for ringing partials. Computed on demand: only the hops after an impulse need
        it."""
        low, high = analyser._high
        part = self.power[row, low:high]
        local = np.convolve(part, analyser._smoother, "same") + TINY
        return float(np.sum(part[part >= 4 * local]) / (np.sum(part) + TINY))


class _Background:
    """The street's usual sound, per frequency bin and as energies per hop (A-weighted,
    unweighted, above 2 kHz).

    Updated every half second from that half second's mean: it follows a quieter street at
    once (half-way per update) but rises by at most 1 dB per update, so a sound of a few
    seconds barely moves it while a lasting change of traffic is learnt within seconds.
    """

    RISE = 10 ** (1.0 / 10)

    def __init__(self):
        self.bins = None
        self.energies = None  # per hop: A-weighted, unweighted, above 2 kHz
        self._sum = None
        self._energy_sum = 0.0
        self._count = 0

    def start(self, power, energies) -> None:
        self.bins = np.mean(power, axis=0) + TINY
        self.energies = np.mean(energies, axis=0) + TINY

    def add(self, power, energies) -> None:
        total = np.sum(power, axis=0)
        self._sum = total if self._sum is None else self._sum + total
        self._energy_sum = self._energy_sum + np.sum(energies, axis=0)
        self._count += len(energies)

    def update(self) -> None:
        if not self._count:
            return
        mean = self._sum / self._count + TINY
        self.bins = _follow(self.bins, mean, self.RISE)
        self.energies = _follow(self.energies, self._energy_sum / self._count + TINY, self.RISE)
        self._sum, self._energy_sum, self._count = None, 0.0, 0


def _follow(floor: np.ndarray, mean: np.ndarray, rise: float) -> np.ndarray:
    return np.where(mean < floor, np.sqrt(floor * mean), np.minimum(mean, floor * rise))


class _History:
    """Per-hop A-weighted energy, Fast maximum and octave bands of the last hops."""

    def __init__(self, size: int, bands: int):
        self.size = size
        self.energy = np.zeros(size)
        self.fast = np.zeros(size)
        self.octaves = np.zeros((size, bands))
        self.next = 0  # first hop not yet stored

    def put(self, first: int, energy, fast, octaves) -> None:
        slots = np.arange(first, first + len(energy)) % self.size
        self.energy[slots] = energy
        self.fast[slots] = fast
        self.octaves[slots] = octaves
        self.next = first + len(energy)

    def span(self, first: int, last: int):
        first = max(first, self.next - self.size, 0)
        last = max(first, min(last, self.next - 1))
        slots = np.arange(first, last + 1) % self.size
        return self.energy[slots], self.fast[slots], self.octaves[slots]


class _SecondAccumulator:
    def __init__(self, bands: int):
        self.bands = bands
        self.clear()

    def clear(self) -> None:
        self.energy = 0.0
        self.fast = 0.0
        self.octaves = np.zeros(self.bands)
        self.hops = 0

    def add(self, energy, fast, octaves) -> None:
        self.energy += float(np.sum(energy))
        self.fast = max(self.fast, float(np.max(fast)))
        self.octaves += np.sum(octaves, axis=0)
        self.hops += len(energy)

    def levels(self, start: float, hop: int, cal: float, centres) -> Levels:
        return Levels(start=start, laeq=db(self.energy / (self.hops * hop), cal),
                      lafmax=db(self.fast, cal),
                      bands={c: db(float(v) / self.hops, cal)
                             for c, v in zip(centres, self.octaves)})


# --- impulses: detonation and glass -------------------------------------------------------------

class _Impulses:
    """Abrupt sounds, judged on their first 0.6 s.

    Trigger: a 5 ms sub-hop whose energy, A-weighted, unweighted (a distant blast is mostly low
    frequencies, which A-weighting hides) or above 2 kHz (glass breaking in a rumble), is 9 dB
    above the background and 7 dB above the 20 ms before it (a shot at 0-5 dB SNR, its energy
    spread over the reverberation, often rises no more above a rainy street). While a sound is
    being looked at, a new trigger as strong as it (within 4 dB) and at least 150 ms later is the
    next shot of a burst, and one 6 dB stronger, however soon, is a sound of its own that a lesser
    one (a step, a door) happened to precede: the first is judged on what came before. Weaker
    triggers are its echoes, reverberation or shards. After a decision, triggers stay masked below
    the last sound's strength, lowered 4 dB and then 15 dB per second, so its tail cannot pass for
    a new sound.
    """

    EXCESS = 10 ** (9 / 10)
    JUMP = 10 ** (7 / 10)
    LOOK = 30  # hops (0.6 s)
    SAME_LEVEL = 10 ** (-4 / 10)
    MIN_GAP = 0.15  # seconds
    STRONGER = 10 ** (6 / 10)
    LOCAL = 50  # hops (1 s): the sound just before an impulse, its "local" level
    RING = 128  # hops of band energies kept (the local second and a segment after it)

    def __init__(self, analyser: Analyser):
        self.a = analyser
        self.kinds = analyser.kinds & {"detonation", "glass"}
        self.previous = np.zeros((3, SUBHOPS))  # the last sub-hops seen, of each energy
        self.bands = np.zeros((self.RING, len(_BANDS)))  # per-hop band energies, by hop % RING
        self.stored = 0  # hops stored so far
        self.open: dict | None = None
        self.mask_level = 0.0
        self.mask_sub = 0
        self.recent = deque(maxlen=64)  # (sub-hop, strength) of recent triggers, 100 ms apart

    def run(self, first_hop: int, f: _Features) -> list[SoundEvent]:
        events = []
        self.bands[np.arange(first_hop, first_hop + f.count) % self.RING] = f.bands
        self.stored = first_hop + f.count
        values = f.subs.reshape(3, -1)
        before = np.concatenate((self.previous, values), axis=1)
        self.previous = before[:, -SUBHOPS:]
        cumulative = np.cumsum(before, axis=1)
        # Mean of the four sub-hops before each one.
        mean4 = (cumulative[:, SUBHOPS - 1:-1] - np.concatenate(
            (np.zeros((3, 1)), cumulative[:, :-SUBHOPS - 1]), axis=1)) / SUBHOPS
        floors = f.floor_subs[:, None] + TINY
        excess = values / floors
        hits = ((excess >= self.EXCESS) & (values >= mean4 * self.JUMP)).any(axis=0)
        if self.open is None and not hits.any():
            return events  # the usual case: nothing abrupt, nothing else to do
        strength = excess.max(axis=0).tolist()
        hits = hits.tolist()
        a_values = values[0].tolist()
        a_before = mean4[0].tolist()
        sub_samples = self.a.hop / SUBHOPS
        for row in range(f.count):
            hop = first_hop + row
            for j in range(SUBHOPS):
                k = row * SUBHOPS + j
                index = hop * SUBHOPS + j
                value, trigger = strength[k], hits[k]
                if trigger:
                    self.remember(index, value)
                o = self.open
                if o is not None:
                    o["subs"].append(a_values[k])
                    o["peak"] = max(o["peak"], value)
                    if len(o["subs"]) <= 2 * SUBHOPS:
                        # The onset's first 10 ms: the peak may come a few ms after the trigger.
                        o["onset_strength"] = max(o["onset_strength"], value)
                        o["onset_a"] = max(o["onset_a"], a_values[k])
                    if trigger and (value >= o["onset_strength"] * self.STRONGER or (
                            value >= o["onset_strength"] * self.SAME_LEVEL
                            and (index - o["sub"]) * sub_samples
                            >= self.MIN_GAP * self.a.sample_rate)):
                        events.extend(self.decide(index))
                        self.start(index, hop, value, a_values[k], a_before[k], f)
                    elif trigger:
                        o["triggers"] += 1
                elif trigger and not self.masked(index, value):
                    self.start(index, hop, value, a_values[k], a_before[k], f)
            if self.open is not None:
                self.collect(row, f)
                if hop - self.open["hop"] >= self.LOOK:
                    events.extend(self.decide((hop + 1) * SUBHOPS))
        return events

    def remember(self, index: int, value: float) -> None:
        recent = self.recent
        if recent and index - recent[-1][0] < 5 * SUBHOPS:
            if value > recent[-1][1]:
                recent[-1] = (recent[-1][0], value)
        else:
            recent.append((index, value))

    def rhythm(self, index: int, value: float) -> int:
        """How many triggers nearly as strong came in the 4 s before: a drum kit, footsteps,
        hammering repeat themselves; a burst of shots is a few."""
        span = 4 * HOPS_PER_SECOND * SUBHOPS
        return sum(1 for sub, strength in self.recent
                   if index - span <= sub < index - SUBHOPS and strength >= value / 4)

    def masked(self, index: int, value: float) -> bool:
        if not self.mask_level:
            return False
        seconds = (index - self.mask_sub) * self.a.hop / SUBHOPS / self.a.sample_rate
        limit = self.mask_level * 10 ** ((-4 - 15 * seconds) / 10)
        return value < limit

    def start(self, index: int, hop: int, strength: float, value: float, before: float,
              f: _Features) -> None:
        self.open = {"sub": index, "hop": hop, "peak": strength, "onset_strength": strength,
                     "rhythm": self.rhythm(index, strength),
                     "onset_a": value, "before": before, "floor_sub": f.floor_sub,
                     "subs": [value], "triggers": 0, "rows": [],
                     "floor_bands": f.floor_bands, "local": self.local(hop)}

    def local(self, hop: int) -> np.ndarray:
        """Median band energies over the second before ``hop`` (the hop just before left out:
        its frame may already hold the onset). Unlike the background, which rises slowly,
        it follows a street that just got louder: rain starting, a truck arriving."""
        first = max(0, hop - self.LOCAL, self.stored - self.RING)
        if hop - 1 - first < 5:
            return np.full(len(_BANDS), np.nan)
        hops = np.arange(first, hop - 1) % self.RING
        return np.median(self.bands[hops], axis=0) + TINY

    def collect(self, row: int, f: _Features) -> None:
        o = self.open
        o["rows"].append((f.bands[row].tolist(), f.tonality(self.a, row)))
        if 2 <= len(o["rows"]) - 1 <= 7:
            o.setdefault("peaks", []).append(self.peaks(f.power[row]))

    def peaks(self, power: np.ndarray) -> np.ndarray:
        """Bins above 1.5 kHz holding a spectral peak 10 dB above the background, within 25 dB
        of the strongest (the window's side lobes are lower) and standing 6 dB out of its
        neighbourhood; widened by a bin, for the next hops to match."""
        low, high = self.a._high
        level = 10 * np.log10(power[low:high] / self.a._floor.bins[low:high] + TINY)
        height = max(10.0, float(np.max(level)) - 25.0)
        found, _ = signal.find_peaks(level, height=height, prominence=6.0, distance=3)
        mask = np.zeros(high - low, bool)
        for shift in (-1, 0, 1):
            mask[np.clip(found + shift, 0, high - low - 1)] = True
        return mask

    def finish(self, hop: int) -> list[SoundEvent]:
        return self.decide(hop * SUBHOPS) if self.open is not None else []

    def decide(self, end_sub: int) -> list[SoundEvent]:
        o, self.open = self.open, None
        self.mask_level, self.mask_sub = o["onset_strength"], o["sub"]
        figures = self.figures(o)
        kind, confidence = judge_impulse(figures)
        onset = figures["onset"]
        end_sample = end_sub * self.a.hop / SUBHOPS
        self.a.trace(detector="impulse", time=self.a.time_of(onset), kind=kind,
                     confidence=confidence, **figures)
        if kind is None or kind not in self.kinds:
            return []
        return [self.a.summary(kind, onset, end_sample, o["hop"], o["hop"] + len(o["rows"]) - 1,
                               confidence)]

    def figures(self, o: dict) -> dict:
        rows = o["rows"]
        bands = np.array([r[0] for r in rows])  # hops x (bb, lo, mid, hi, vb, kick)
        tonal = np.array([r[1] for r in rows])
        floor = np.asarray(o["floor_bands"]) + TINY
        excess = np.maximum(bands - floor, 0.0)
        head = excess[:3]
        peak_row = int(np.argmax(head[:, 0])) if len(head) else 0
        peak = excess[peak_row] + TINY
        onset = np.sum(excess[:5], axis=0) + TINY  # the first 100 ms: crack and blast
        total = peak[1] + peak[2] + peak[3]
        tail = excess[peak_row + 5:peak_row + 11, 0]
        tail_db = 10 * math.log10((np.mean(tail) if len(tail) else 0) / peak[0] + TINY)
        late = slice(peak_row + 2, peak_row + 30)
        hi_late = excess[late, 3]
        loud = hi_late > floor[3] * 3
        figures = {
            "peak_excess": 10 * math.log10(o["onset_strength"]),
            "a_excess": 10 * math.log10(o["onset_a"] / (o["floor_sub"] + TINY)),
            "jump": 10 * math.log10(o["onset_a"] / (o["before"] + TINY)),
            "bb_excess": 10 * math.log10(peak[0] / floor[0]),
            "lo_share": float(peak[1] / (total + TINY)),
            "hi_share": float(peak[3] / (total + TINY)),
            # Low (50-300 Hz) against middle (300-2000 Hz) frequencies over the first 100 ms:
            # a blast has both; claps, keys, glass have next to no low end; thuds little else.
            "lo_db": max(-40.0, min(40.0, 10 * math.log10(onset[1] / onset[2]))),
            # How far each band rises above its own background over those 100 ms.
            "lo_rise": 10 * math.log10(np.mean(bands[:5, 1]) / floor[1]),
            "mid_rise": 10 * math.log10(np.mean(bands[:5, 2]) / floor[2]),
            "hi_rise": 10 * math.log10(np.mean(bands[:5, 3]) / floor[3]),
            "tail_db": tail_db,
            "hi_late_share": float(np.sum(hi_late) / (np.sum(excess[late, 1:4]) + TINY)),
            # The ringing, as how far the high band stands above its background compared with
            # the middle band: noise elsewhere in the spectrum does not dilute it.
            "hi_over_mid": (10 * math.log10(np.mean(bands[late, 3]) / floor[3])
                            - 10 * math.log10(np.mean(bands[late, 2]) / floor[2]))
            if len(bands) > peak_row + 2 else 0.0,
            "tonal_late": float(np.median(tonal[late][loud])) if loud.any() else 0.0,
            "ringing_hops": int(np.sum(loud)),
            # What rings on 0.3-0.5 s later, against the high band's peak: glass has died
            # down, a glass clinked or a dropped pan rings on.
            "hi_decay": 10 * math.log10(np.mean(excess[peak_row + 15:peak_row + 25, 3] if
                                                len(excess) > peak_row + 15 else [0.0])
                                        / (np.max(excess[:peak_row + 3, 3]) + TINY) + TINY),
            # How far each band rises over the first 100 ms above the second just before.
            **{f"{name}_local": 10 * math.log10(np.mean(bands[:5, column]) / o["local"][column])
               for name, column in (("bb", 0), ("lo", 1), ("mid", 2), ("hi", 3))},
            "tonal_onset": float(tonal[peak_row]) if len(tonal) else 0.0,
            "partials": _partials(o.get("peaks", [])),
            "triggers": o["triggers"],
            "rhythm": o["rhythm"],
            "hops": len(rows),
        }
        subs = np.asarray(o["subs"])
        start = 3 * SUBHOPS
        if len(subs) > start:
            before = np.convolve(subs, np.ones(SUBHOPS) / SUBHOPS, "valid")[:-1]
            later = subs[start:]
            jumps = (later >= before[start - SUBHOPS:] * 10 ** 0.6) & \
                (later >= o["floor_sub"] * 10 ** 0.6)
            figures["tinkles"] = int(np.sum(jumps))
            figures["later_db"] = 10 * math.log10(np.max(subs[5 * SUBHOPS:], initial=TINY)
                                                  / o["onset_a"])
        else:
            figures["tinkles"], figures["later_db"] = 0, -99.0
        onset, rise, crest, peak_snr = self.refine(o["sub"])
        figures.update(onset=onset, rise_ms=rise, crest=crest, peak_snr=peak_snr,
                       beat=self.a._music.current)
        return figures

    def refine(self, sub_index: int) -> tuple[float, float, float, float]:
        """Onset sample, rise time (ms), crest factor and the peak over the noise before (dB),
        from the samples around the trigger. A shot's wave front lasts a millisecond or two: in
        5 ms energies it is diluted, its peak sample stands far above the street.

        The samples are high-passed at 300 Hz (traffic rumble would blur the onset); the onset
        is the first sample above a quarter of the peak (and well above the noise before),
        moved back over the rise's foot.
        """
        sr = self.a.sample_rate
        sub_len = self.a.hop / SUBHOPS
        at = int(sub_index * sub_len)
        lead, after = int(0.06 * sr), int(0.03 * sr)
        x = self.a.recent_samples(at - lead, at + after)
        if x is None or len(x) < lead + after:
            return at, float("nan"), float("nan"), float("nan")
        sos = signal.butter(2, 300, "highpass", fs=sr, output="sos")
        y = np.abs(signal.sosfilt(sos, x.astype(np.float64)))
        noise = math.sqrt(float(np.mean(y[int(0.01 * sr):lead - int(0.005 * sr)] ** 2))) + TINY
        search = slice(lead - int(sub_len) - int(0.005 * sr), lead + int(2 * sub_len))
        part = y[search]
        peak = float(np.max(part))
        above = np.flatnonzero(part >= max(0.25 * peak, 4 * noise))
        first = int(above[0]) if len(above) else int(np.argmax(part))
        foot = max(2 * noise, 0.05 * peak)
        steps = 0
        while first > 0 and part[first - 1] >= foot and steps < int(0.002 * sr):
            first -= 1
            steps += 1
        onset = at - lead + search.start + first
        head = part[first:first + int(0.01 * sr)]
        rise = int(np.argmax(head >= 0.5 * np.max(head))) / sr * 1000
        start = search.start + first
        window = y[start:start + int(0.02 * sr)]
        crest = peak / (math.sqrt(float(np.mean(window ** 2))) + TINY)
        return onset, rise, crest, 20 * math.log10(peak / noise)


def _partials(masks: list) -> int:
    """How many distinct partials ring: spectral peaks found at the same place (within a bin)
    in at least four of the six hops 40 to 140 ms after the onset. A noise's chance peaks move
    from hop to hop; glass breaking rings with several partials, a clinked glass with one to
    three."""
    if len(masks) < 4:
        return 0
    steady = np.sum(masks, axis=0) >= 4
    return int(np.sum(steady[1:] & ~steady[:-1]) + steady[0])


def _ramp(value: float, bad: float, good: float) -> float:
    """Membership in 0..1: 0 at ``bad``, 1 at ``good``, linear between (either order)."""
    if value != value:  # NaN: not measured, no evidence either way
        return 0.5
    return min(1.0, max(0.0, (value - bad) / (good - bad)))


IMPULSE_MODEL = Path(__file__).with_name("impulses.json")
# The figures the impulse judge weighs (see ``_Impulses.figures``). The music's beat is not
# one of them: measured over the last 12 s, it is not there yet at the start of a stream, so a
# judge learned on short clips would take its absence for a sign of a shot and fire less on
# the same shot heard in a long stream.
IMPULSE_FEATURES = (
    "rise_ms", "crest", "hi_late_share", "hi_over_mid", "lo_db", "lo_rise", "mid_rise",
    "hi_rise", "a_excess", "peak_excess", "jump", "bb_excess", "lo_share", "hi_share",
    "tail_db", "tonal_late", "ringing_hops", "hi_decay", "triggers", "rhythm", "hops",
    "tinkles", "later_db", "bb_local", "lo_local", "mid_local", "hi_local",
    "tonal_onset", "partials", "peak_snr",
)
_impulse_models: dict[str, stumps.Stumps] | None = None


def impulse_models() -> dict[str, stumps.Stumps]:
    global _impulse_models
    if _impulse_models is None:
        _impulse_models = stumps.load(IMPULSE_MODEL)
    return _impulse_models


def judge_impulse(f: dict) -> tuple[str | None, float]:
    """Detonation, glass or nothing, from an impulse's figures; and the confidence.

    The figures describe what a shot and breaking glass are known to be. A detonation: a sharp
    rise, a high crest factor, low frequencies as well as middle ones, no ringing in the high
    band; when low frequencies dominate (explosions, but also door slams and footsteps), a
    rumble that lasts; not the fifth of a series (drums, steps), not a thud while music with
    a beat plays. Glass: ringing in the high band that is tonal (narrow partials), lasts and
    decays, after a first impact louder than what follows, at a moderate crest factor (keys
    are spikier, birds and ringing metal smoother). How much each counts, and where the lines
    lie, is learned offline by boosted stumps (``bench/train_impulses.py``) from generated
    clips kept apart from the benchmark's; the model is ``impulses.json``.
    """
    best, confidence = None, 0.0
    for kind, model in impulse_models().items():
        score = model.score(f)
        if score > model.threshold and model.confidence(score) > confidence:
            best, confidence = kind, model.confidence(score)
    return best, confidence


# --- screams ------------------------------------------------------------------------------------

class _Screams:
    """High-pitched harmonic sound whose pitch moves, lasting 0.3 to 3 s.

    A hop is a candidate when its pitch is 380-1700 Hz, its voicing clearly above what noise
    gives, and its 300-5000 Hz band above the background. Candidates whose pitch continues
    (under 1.5 semitones per hop, gaps up to 60 ms) form a track; tracks under 0.5 s apart
    form an episode, judged 1.5 s after it ends (to compare it with what follows) on its
    longest track. An episode of more than 3 s is a siren or an alarm, not a cry: it is
    dropped (and forgotten, so memory stays bounded).
    """

    F0 = (380.0, 1700.0)
    VOICING = 0.35
    EXCESS = 10 ** (3 / 10)
    JUMP = 150.0  # cents per hop
    GAP = 3  # hops
    MIN_TRACK = 5  # hops
    PAUSE = 25  # hops that end an episode
    AFTER = 75  # hops after an episode compared with it
    LONGEST = 3 * HOPS_PER_SECOND

    def __init__(self, analyser: Analyser):
        self.a = analyser
        self.track: list = []  # (hop, cents, voicing, excess dB, richness, comb, energy)
        self.recent = deque(maxlen=2 * HOPS_PER_SECOND)  # voice-band energy of the last hops
        self.before = 0.0  # voice-band energy before the current track
        self.tracks: list = []  # the episode's tracks
        self.first = self.last = -10 ** 9  # the episode's first and last hop
        self.too_long = False
        self.pending: list = []  # ended episodes waiting for what follows: (tracks, last hop)

    def run(self, first_hop: int, f: _Features) -> list[SoundEvent]:
        events = []
        vb_floor = f.floor_bands[4] + TINY
        vb = f.bands[:, 4].tolist()
        low, high = self.F0
        for row in range(f.count):
            hop = first_hop + row
            self.recent.append(vb[row])
            track = self.track
            if track and hop - track[-1][0] > self.GAP + 1:
                self.close()
                track = self.track
            f0, voicing = f.f0[row], f.voicing[row]
            if voicing >= self.VOICING and low <= f0 <= high and vb[row] >= vb_floor * self.EXCESS:
                cents = 1200 * math.log2(f0)
                if track:
                    # An octave error does not break a track: folded back to the track's octave.
                    change = cents - track[-1][1]
                    octave = 1200 * round(change / 1200)
                    if abs(octave) <= 1200:
                        cents -= octave
                        change -= octave
                if not track:
                    # The sound before: from 1.5 s to 0.1 s before the track.
                    recent = list(self.recent)[-80:-5]
                    self.before = sum(recent) / len(recent) if recent else vb_floor
                if not track or abs(change) <= self.JUMP * (hop - track[-1][0]):
                    track.append((hop, cents, voicing, 10 * math.log10(vb[row] / vb_floor),
                                  f.richness[row], f.comb[row], vb[row]))
                # else: a jump, taken as a missing hop; if it lasts, the track ends.
            if (self.tracks or self.too_long) and not track and hop - self.last > self.PAUSE:
                if self.tracks:
                    self.pending.append((self.tracks, self.last))
                self.tracks, self.too_long = [], False
            while self.pending and hop - self.pending[0][1] >= self.AFTER:
                events.extend(self.decide(*self.pending.pop(0)))
        return events

    def close(self) -> None:
        track, self.track = self.track, []
        if len(track) < self.MIN_TRACK:
            return
        track = [frame + (self.before,) for frame in track]
        if not self.tracks and not self.too_long:
            self.first = track[0][0]
        self.last = track[-1][0]
        if self.too_long:
            return
        self.tracks.append(track)
        if self.last - self.first >= self.LONGEST:
            self.a.trace(detector="scream", time=self.a.time_of(self.first * self.a.hop),
                         kind=None, confidence=0.0, span=self.last - self.first)
            self.tracks, self.too_long = [], True

    def finish(self, hop: int) -> list[SoundEvent]:
        self.close()
        if self.tracks:
            self.pending.append((self.tracks, self.last))
        events = [event for pending in self.pending for event in self.decide(*pending)]
        self.tracks, self.too_long, self.pending = [], False, []
        return events

    def decide(self, tracks: list, last: int) -> list[SoundEvent]:
        after = list(self.recent)[-(self.AFTER - 5):]
        after_level = sum(after) / len(after) if after else TINY
        longest = max(tracks, key=len)
        frames = np.array(longest)
        hops, cents, voicing, excess, richness, comb, energy, before = frames.T
        consecutive = np.diff(hops) == 1
        steps = np.abs(np.diff(cents))[consecutive]
        both = consecutive[1:] & consecutive[:-1]
        curvature = np.abs(np.diff(cents, 2))[both]
        peak = np.max(excess)
        figures = {
            "span": int(last - tracks[0][0][0] + 1), "tracks": len(tracks),
            "run": int(hops[-1] - hops[0] + 1), "voiced": len(longest),
            "f0": float(2 ** (np.median(cents) / 1200)),
            "range": float(np.percentile(cents, 90) - np.percentile(cents, 10)) / 100,
            "steady": float(np.mean(steps < 8)) if len(steps) else 1.0,
            "step": float(np.median(steps)) if len(steps) else 0.0,
            "voicing": float(np.mean(voicing)), "excess": float(np.mean(excess)),
            "richness": float(np.median(richness)), "comb": float(np.median(comb)),
            # Too few consecutive hops to tell: no evidence either way.
            "curvature": float(np.median(curvature)) if len(curvature) >= 4 else float("nan"),
            "plateau": _longest_run(hops[excess >= peak - 8].astype(int), self.GAP),
            # Against the sound just before (not the long-term background): a cry stands out
            # of the street; a note stands out of the music only as much as the music varies.
            "contrast": 10 * math.log10(np.mean(energy) / (before[0] + TINY)),
            "after": 10 * math.log10(np.mean(energy) / (after_level + TINY)),
            "beat": self.a._music.current,
            "width": _width(hops, excess, 6.0), "width3": _width(hops, excess, 3.0),
        }
        kind, confidence = judge_scream(figures)
        self.a.trace(detector="scream", time=self.a.time_of(hops[0] * self.a.hop), kind=kind,
                     confidence=confidence, **figures)
        if kind is None:
            return []
        first = int(min(t[0][0] for t in tracks))
        last = int(max(t[-1][0] for t in tracks))
        return [self.a.summary(kind, (first - 1) * self.a.hop, (last + 1) * self.a.hop,
                               first - 1, last, confidence)]


def _longest_run(hops: np.ndarray, gap: int) -> int:
    """Length in hops of the longest stretch of ``hops`` without a hole of more than ``gap``."""
    if not len(hops):
        return 0
    breaks = np.flatnonzero(np.diff(hops) > gap + 1)
    edges = np.concatenate(([0], breaks + 1, [len(hops)]))
    return max(int(hops[b - 1] - hops[a] + 1) for a, b in zip(edges[:-1], edges[1:]))


def _width(hops: np.ndarray, excess: np.ndarray, down_db: float) -> int:
    """Hops from the first to the last frame within ``down_db`` of the loudest, on levels
    smoothed over three hops: how long the sound holds, whatever it does in between."""
    if len(excess) >= 3:
        power = 10 ** (excess / 10)
        smooth = 10 * np.log10(np.convolve(power, np.ones(3) / 3, "same"))
    else:
        smooth = excess
    loud = hops[smooth >= np.max(smooth) - down_db]
    return int(loud[-1] - loud[0] + 1)


def judge_scream(f: dict) -> tuple[str | None, float]:
    """A scream, or nothing, from a voiced episode's figures (memberships as for impulses)."""
    scores = [
        _ramp(f["run"], 12, 18),  # sustained: 0.3 s and more without a break...
        _ramp(f["plateau"], 9, 14),  # ...at full strength, not a bark and its echo
        _ramp(f["voicing"], 0.5, 0.62),  # clearly harmonic: not speech through a crowd
        _ramp(f["step"], 5.0, 9.0),  # a moving pitch: not a horn, a note or a siren's plateau
        _ramp(f["steady"], 0.65, 0.45),
        _ramp(f["range"], 0.4, 1.0),  # more than a vibrato
        _ramp(f["richness"], 0.98, 1.05),  # harmonics: not a pure tone (squeal, ringing)
        _ramp(f["comb"], 0.3, 0.45),  # energy on the pitch's harmonics: not a lower voice
        _ramp(f["curvature"], 4.0, 8.0),  # an irregular pitch: not a siren's smooth sweep
        _ramp(f["excess"], 3.5, 6.0),
        # A cry ends and the street is back to its sound; music, a siren, a crowd go on.
        _ramp(f["after"], 2.5, 4.5),
    ]
    if f["beat"] >= MUSIC_BEAT:
        # Music plays: its melody is harmonic and moves too; a cry must stand out of it.
        scores.append(_ramp(f["contrast"], 5.0, 9.0))
    score = sum(scores) / len(scores)
    if min(scores) > 0 and score >= 0.5:
        return "scream", score
    return None, score


# --- music --------------------------------------------------------------------------------------

class _Music:
    """Loud music with a beat, second by second, over minutes.

    The beat is the periodicity of the onsets in the low band (40-300 Hz: kick drum and bass)
    over the last 12 s: the autocorrelation of their strength at periods from a beat at 160 BPM
    to a bar of four beats at 80 BPM (0.375-3 s), since many patterns only repeat by the bar.
    A second is "music" when its LAeq exceeds the threshold, the beat is there and the night
    window is on. An episode starts at its first music second and ends after
    ``quiet_seconds`` without one; it gives one event, once it has lasted ``min_seconds`` with
    music in most of its seconds.
    """

    WINDOW = 12 * HOPS_PER_SECOND
    BEAT = 0.3
    SHARE = 0.7

    def __init__(self, analyser: Analyser):
        self.a = analyser
        self.settings = analyser.music
        self.strength = deque(maxlen=self.WINDOW)
        self.last_level = None
        self.lags = (int(0.375 * HOPS_PER_SECOND), int(3.0 * HOPS_PER_SECOND))
        self.episode: dict | None = None
        self.current = 0.0  # the last second's beat strength, for the other detectors

    def onsets(self, low_band: np.ndarray) -> None:
        level = 10 * np.log10(low_band + TINY)
        previous = level[0] if self.last_level is None else self.last_level
        rise = np.maximum(np.diff(np.concatenate(([previous], level))), 0.0)
        self.strength.extend(rise.tolist())
        self.last_level = float(level[-1])

    def beat(self) -> float:
        if len(self.strength) < self.WINDOW // 3:
            return 0.0
        x = np.asarray(self.strength)
        x = x - np.mean(x)
        n = len(x)
        spectrum = np.fft.rfft(x, 2 * n)
        acf = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2)[:n]
        low, high = self.lags
        high = min(high, n - n // 3)  # keep a meaningful overlap
        lags = np.arange(low, high + 1)
        # Unbiased: each lag's sum over its own overlap.
        r = acf[low:high + 1] / (n - lags) / (acf[0] / n + TINY)
        return float(np.max(r))

    def second(self, end_hop: int, level: Levels, acc: _SecondAccumulator) -> list[SoundEvent]:
        settings = self.settings
        now = level.start + 1.0
        beat = self.current = self.beat()
        active = settings.active is None or bool(settings.active(level.start))
        loud = level.laeq >= settings.threshold_db
        is_music = active and loud and beat >= self.BEAT
        self.a.trace(detector="music-second", time=level.start, beat=beat, laeq=level.laeq,
                     active=active, music=is_music)
        e = self.episode
        events = []
        if e is not None and now - e["last"] > settings.quiet_seconds:
            self.episode = e = None
        if not is_music:
            return events
        if e is None:
            e = self.episode = {"start": level.start, "start_hop": end_hop - HOPS_PER_SECOND,
                                "seconds": 0, "beat": 0.0, "excess": 0.0, "emitted": False,
                                "energy": 0.0, "fast": 0.0, "octaves": np.zeros(len(acc.octaves)),
                                "hops": 0}
        e["last"] = now
        e["seconds"] += 1
        e["beat"] += beat
        e["excess"] += level.laeq - settings.threshold_db
        e["energy"] += acc.energy
        e["fast"] = max(e["fast"], acc.fast)
        e["octaves"] = e["octaves"] + acc.octaves
        e["hops"] += acc.hops
        lasted = now - e["start"]
        if (not e["emitted"] and lasted >= settings.min_seconds
                and e["seconds"] >= self.SHARE * lasted):
            e["emitted"] = True
            beat_mean = e["beat"] / e["seconds"]
            excess = e["excess"] / e["seconds"]
            confidence = 0.5 + 0.25 * min(1.0, (beat_mean - self.BEAT) / 0.3) \
                + 0.25 * min(1.0, excess / 10)
            events.append(self.a.event("music", e["start_hop"] * self.a.hop,
                                       end_hop * self.a.hop, confidence, e["energy"], e["hops"],
                                       e["fast"], e["octaves"] / max(1, e["hops"])))
        return events

    def finish(self, hop: int) -> list[SoundEvent]:
        self.episode = None
        return []


# --- pluggable classifier -----------------------------------------------------------------------

class _Classified:
    """Episodes of a classifier's labels: one event per episode, when it ends (or after 10 s
    if it lasts)."""

    LONGEST = 10.0

    def __init__(self, analyser: Analyser):
        self.a = analyser
        c = analyser.classifier
        self.open: dict[str, dict] = {}
        if c is None:
            return
        self.window = int(round(float(c.window_seconds) * analyser.sample_rate))
        self.every = max(1, int(round(c.window_seconds * HOPS_PER_SECOND / 2)))
        self.threshold = float(getattr(c, "threshold", 0.5))

    def run(self, first_hop: int, count: int) -> list[SoundEvent]:
        events = []
        a = self.a
        for hop in range(first_hop, first_hop + count):
            if (hop + 1) % self.every:
                continue
            end = (hop + 1) * a.hop
            window = a.recent_samples(end - self.window, end)
            if window is None:
                continue
            scores = a.classifier.scores(window, a.sample_rate)
            for label, score in scores.items():
                score = float(score)
                episode = self.open.get(label)
                if score >= self.threshold:
                    if episode is None:
                        episode = self.open[label] = {
                            "start": end - self.window, "score": score, "emitted": False,
                            "energy": 0.0, "fast": 0.0, "hops": 0,
                            "octaves": np.zeros(len(a.octaves)),
                            "from": max(0, (end - self.window) // a.hop)}
                    episode["score"] = max(episode["score"], score)
                    episode["end"] = end
                    energy, fast, octaves = a._history.span(episode["from"], hop)
                    episode["energy"] += float(np.sum(energy))
                    episode["fast"] = max(episode["fast"], float(np.max(fast)))
                    episode["octaves"] = episode["octaves"] + np.sum(octaves, axis=0)
                    episode["hops"] += len(energy)
                    episode["from"] = hop + 1
                    if (not episode["emitted"]
                            and (end - episode["start"]) / a.sample_rate >= self.LONGEST):
                        episode["emitted"] = True
                        events.append(self.emit(label, episode))
                elif episode is not None:
                    del self.open[label]
                    if not episode["emitted"]:
                        events.append(self.emit(label, episode))
        return events

    def emit(self, label: str, e: dict) -> SoundEvent:
        return self.a.event(label, e["start"], e["end"], e["score"], e["energy"], e["hops"],
                            e["fast"], e["octaves"] / max(1, e["hops"]))

    def finish(self, hop: int) -> list[SoundEvent]:
        events = [self.emit(label, e) for label, e in self.open.items() if not e["emitted"]]
        self.open = {}
        return events
