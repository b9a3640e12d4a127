"""Streaming detection of suspicious street sounds: detonations, screams, breaking glass, and
loud music at night; plus per-second levels.

One ``Analyser`` per sensor. Samples go through the front end (``levels.FrontEnd``) once, as
20 ms hops; everything else works on per-hop figures: A-weighted energy in 5 ms sub-hops and
the power spectrum of a 40 ms frame, from which come mel bands, octave bands and a tonality.
The background is tracked per frequency bin, so that every detector measures how far a sound
stands above *this* street's usual sound.

Detonations, breaking glass and screams share one path: a cheap level trigger (an abrupt rise,
``candidates``) picks the moments worth a look, times their onset on the samples to the
millisecond, and a model learned on real recordings (``judge``) calls the second that follows.
Music is a second-by-second verdict (loud enough, with a steady kick drum) that must hold for
minutes (``music``).

No audio is stored: a ring of a couple of seconds of samples (for onset refinement and the
optional classifier) and a few seconds of per-hop figures, whatever the stream's length.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from . import judge as judges
from .candidates import Candidates
from .classifier import Classifier, Episodes
from .levels import (
    HOPS_PER_SECOND,
    SUBHOPS,
    FrontEnd,
    HopBatch,
    band_matrix,
    db,
    octave_matrix,
)
from .music import Music
from .types import KINDS, Levels, SoundEvent

GAP_TOLERANCE = 0.02  # seconds: farther than that from the expected time, a block starts over
GROUP = 25  # hops (0.5 s) between updates of the background estimate
HISTORY = 8 * HOPS_PER_SECOND  # hops of per-hop figures kept for event summaries
RING_SECONDS = 2.0  # samples kept for onset refinement (more if the classifier needs it)
PIECE = 4000  # the longest piece of a block analysed at once (a quarter second at 16 kHz)
TINY = 1e-20
BEAT_BAND = (40, 300)  # Hz: kick drum and bass, whose onsets give the music's beat
TONAL_BAND = (400, 4000)  # Hz: where a cry, a whistle or a siren stands out of the noise


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


class Analyser:
    """Levels and sound events of one sensor's stream (see the module's docstring).

    ``calibration_db``: the level a full-scale RMS signal reads. ``kinds``: the built-in
    detectors to run (any of KINDS). ``classifier``: an optional model run on the last
    ``window_seconds`` of audio every half window; each episode of a label scoring at least the
    classifier's ``threshold`` (0.5 if it has none) gives one event of that label. ``judge``:
    the model calling candidates (the shipped one by default).
    """

    def __init__(self, sample_rate: int = 16000, *, calibration_db: float = 120.0,
                 kinds: Iterable[str] = KINDS, music: MusicSettings = MusicSettings(),
                 classifier: Classifier | None = None, judge: judges.Model | None = None):
        self.sample_rate = int(sample_rate)
        self.calibration_db = float(calibration_db)
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise ValueError(f"Type(s) de son inconnu(s) : {', '.join(sorted(unknown))}")
        self.music = music
        self.classifier = classifier
        self.judge = judge
        self.harvest = False  # training: candidates' figures go to the trace, nothing is judged
        self._front = FrontEnd(self.sample_rate)
        self.hop = self._front.hop
        bins = self._front.bins
        self.octaves, octaves = octave_matrix(self.sample_rate, bins)
        beat = band_matrix(self.sample_rate, bins, [BEAT_BAND])
        self._mel = judges.mel_matrix(self.sample_rate, bins)
        self._bands = np.concatenate((octaves, beat, self._mel), axis=1)
        freqs = np.fft.rfftfreq(self._front.frame, 1 / self.sample_rate)
        self._tonal_bins = tuple(int(np.searchsorted(freqs, f)) for f in TONAL_BAND)
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
        self._candidates = Candidates(self)
        self._music = Music(self)
        self._classified = Episodes(self)

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
            events.extend(self._candidates.finish())
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
        both = power @ self._bands
        count = len(self.octaves)
        octaves, beat, mel = both[:, :count], both[:, count], both[:, count + 1:]
        self._history.put(first, energy, fast, octaves)
        floor = self._floor
        if floor.bins is None:  # the stream's first hops: their own mean is the background
            floor.start(power, energies)
        if self.kinds - {"music"}:
            segment = _Segment(subs=subs, floor_subs=floor.energies / SUBHOPS, mel=mel,
                               floor_mel=floor.bins @ self._mel + TINY,
                               pitch=judges.hop_figures(power, self._tonal_bins))
            events.extend(self._candidates.run(first, segment))
        self._music.onsets(beat)
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


@dataclass
class _Segment:
    """What the candidates' trigger and judge need of a segment's hops."""

    subs: np.ndarray  # 3 x hops x 4 sub-hop energies: A-weighted, unweighted, above 2 kHz
    floor_subs: np.ndarray  # the background's, per sub-hop
    mel: np.ndarray  # hops x mel bands
    floor_mel: np.ndarray  # the background's mel bands
    pitch: np.ndarray  # hops x 3 (``judge.hop_figures``)

    @property
    def count(self) -> int:
        return len(self.mel)


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
