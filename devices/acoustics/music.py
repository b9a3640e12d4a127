"""Loud music at night: a second-by-second verdict (loud enough, with a steady beat) that must
hold for minutes. Part of the ``Analyser`` (``detectors``), which feeds it per-hop low-band
energies and per-second levels."""

from collections import deque

import numpy as np

from .levels import HOPS_PER_SECOND
from .types import Levels, SoundEvent

TINY = 1e-20


class Music:
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

    def __init__(self, analyser):
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

    def second(self, end_hop: int, level: Levels, acc) -> list[SoundEvent]:
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

