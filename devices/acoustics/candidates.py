"""Candidate sounds: the cheap level trigger in front of the learned judge (``judge``).

Trigger: a 5 ms sub-hop whose energy, A-weighted, unweighted (a distant blast is mostly low
frequencies, which A-weighting hides) or above 2 kHz (glass breaking in a rumble), is 9 dB above
the background and 7 dB above the 20 ms before it. While a sound is being looked at (0.6 s), a
new trigger as strong as it (within 4 dB) and at least 150 ms later is the next shot of a burst,
and one 6 dB stronger, however soon, is a sound of its own that a lesser one (a step, a door)
happened to precede. Weaker triggers are its echoes, reverberation or shards. After a sound,
triggers stay masked below its strength, lowered 4 dB and then 15 dB per second, so its tail
cannot pass for a new sound.

A sound that rises slowly, as a cry often does over a loud street, may never jump 7 dB in 20 ms:
a second trigger, the swell, starts a candidate where the 500 Hz-4 kHz band has stood 8 dB above
its background for 0.2 s, unless a candidate started less than half a second before; while the
band stays up, another every second, so that a long cry is judged on more than its start.

Each candidate's onset is refined on the samples to the millisecond (for multilateration), then
the second from just before its onset is judged once it has been heard, about a second later.
"""

import math
from collections import deque

import numpy as np
from scipy import signal

from . import judge
from .levels import HOPS_PER_SECOND, SUBHOPS
from .types import SoundEvent

TINY = 1e-20
ACTIVE_DB = 6.0  # a hop this far above the background is still part of the sound


class Candidates:
    EXCESS = 10 ** (9 / 10)
    JUMP = 10 ** (7 / 10)
    LOOK = 30  # hops (0.6 s)
    SAME_LEVEL = 10 ** (-4 / 10)
    MIN_GAP = 0.15  # seconds
    STRONGER = 10 ** (6 / 10)
    RING = 128  # hops of mel frames kept (a candidate's second, and the segment after it)
    SWELL = 10 ** (8 / 10)
    SWELL_HOPS = 10  # 0.2 s
    SWELL_BAND = (500.0, 4000.0)  # Hz
    SWELL_GAP = 25  # hops since the last candidate's start
    SWELL_AGAIN = 50  # hops between two candidates of one long swell

    def __init__(self, analyser):
        self.a = analyser
        self.previous = np.zeros((3, SUBHOPS))  # the last sub-hops seen, of each energy
        self.mel = np.zeros((self.RING, judge.MEL_BANDS))
        self.pitch = np.zeros((self.RING, 3))
        self.stored = 0  # hops stored so far
        self.open: dict | None = None
        self.pending: list[dict] = []  # decided candidates waiting for their second
        self.mask_level = 0.0
        self.mask_sub = 0
        self.recent = deque(maxlen=64)  # (sub-hop, strength) of recent triggers, 100 ms apart
        centres = judge.mel_centres(analyser.sample_rate)
        self.swell_bands = (centres >= self.SWELL_BAND[0]) & (centres <= self.SWELL_BAND[1])
        self.swell_start = None  # first hop of the current run above the swell level
        self.last_start = -10 ** 9  # hop of the last candidate's start
        self.cry_until = -10 ** 9  # last hop of the last scream reported

    def run(self, first_hop: int, f) -> list[SoundEvent]:
        """One segment's hops: ``f`` holds their sub-hop energies (``subs``, 3 x hops x 4), the
        background's (``floor_subs``, ``floor_mel``), and their ``mel`` and ``pitch`` rows."""
        events = []
        slots = np.arange(first_hop, first_hop + f.count) % self.RING
        self.mel[slots] = f.mel
        self.pitch[slots] = f.pitch
        self.stored = first_hop + f.count
        values = f.subs.reshape(3, -1)
        before = np.concatenate((self.previous, values), axis=1)
        self.previous = before[:, -SUBHOPS:]
        cumulative = np.cumsum(before, axis=1)
        # Mean of the four sub-hops before each one.
        mean4 = (cumulative[:, SUBHOPS - 1:-1] - np.concatenate(
            (np.zeros((3, 1)), cumulative[:, :-SUBHOPS - 1]), axis=1)) / SUBHOPS
        excess = values / (f.floor_subs[:, None] + TINY)
        hits = ((excess >= self.EXCESS) & (values >= mean4 * self.JUMP)).any(axis=0)
        band = f.mel[:, self.swell_bands].sum(axis=1)
        loud = (band >= f.floor_mel[self.swell_bands].sum() * self.SWELL).tolist()
        if self.open is not None or hits.any():
            self.scan(first_hop, f, excess.max(axis=0).tolist(), hits.tolist(), loud)
        else:
            for row, above in enumerate(loud):
                self.swell(first_hop + row, above, f)
        while self.pending and self.pending[0]["hop"] - judge.LEAD + judge.WINDOW <= self.stored:
            events.extend(self.judged(self.pending.pop(0)))
        return events

    def scan(self, first_hop: int, f, strength: list, hits: list, loud: list) -> None:
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
                    if index - o["sub"] < 2 * SUBHOPS:
                        # The onset's first 10 ms: the peak may come a few ms after the trigger.
                        o["strength"] = max(o["strength"], value)
                    if trigger and (value >= o["strength"] * self.STRONGER or (
                            value >= o["strength"] * self.SAME_LEVEL
                            and (index - o["sub"]) * sub_samples
                            >= self.MIN_GAP * self.a.sample_rate)):
                        self.decide()
                        self.start(index, hop, value, f)
                    elif trigger:
                        o["triggers"] += 1
                elif trigger and not self.masked(index, value):
                    self.start(index, hop, value, f)
            if self.open is not None and hop - self.open["hop"] >= self.LOOK:
                self.decide()
            self.swell(hop, loud[row], f)

    def swell(self, hop: int, loud: bool, f) -> None:
        """One hop of the swell trigger (after the abrupt trigger has seen the same hop)."""
        if not loud:
            self.swell_start = None
            return
        if self.swell_start is None:
            self.swell_start = hop
        length = hop - self.swell_start + 1
        start = hop - self.SWELL_HOPS + 1
        if (length >= self.SWELL_HOPS and self.open is None
                and start - self.last_start >= (self.SWELL_GAP if length == self.SWELL_HOPS
                                                else self.SWELL_AGAIN)):
            self.last_start = start
            self.pending.append({
                "hop": start, "onset": start * self.a.hop, "background": f.floor_mel.copy(),
                "extras": {"rhythm": 0, "triggers": 0, "swell": 1}})
            self.pending.sort(key=lambda o: o["hop"])

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
        return value < self.mask_level * 10 ** ((-4 - 15 * seconds) / 10)

    def start(self, index: int, hop: int, strength: float, f) -> None:
        self.last_start = hop
        self.open = {"sub": index, "hop": hop, "strength": strength,
                     "rhythm": self.rhythm(index, strength), "triggers": 0,
                     "background": f.floor_mel.copy()}

    def decide(self) -> None:
        """The look is over: time the onset and queue the candidate for the judge."""
        o, self.open = self.open, None
        self.mask_level, self.mask_sub = o["strength"], o["sub"]
        onset, rise, crest, peak_snr = self.refine(o["sub"])
        o.update(onset=onset, extras={"rise_ms": rise, "crest": crest, "peak_snr": peak_snr,
                                      "rhythm": o["rhythm"], "triggers": o["triggers"],
                                      "swell": 0})
        self.pending.append(o)

    def finish(self) -> list[SoundEvent]:
        """End of stream: what is pending is judged on what was heard of it."""
        if self.open is not None:
            self.decide()
        events = []
        for o in self.pending:
            events.extend(self.judged(o))
        self.pending = []
        return events

    def window(self, o: dict) -> tuple[np.ndarray, np.ndarray]:
        """Mel rows and pitch figures of the candidate's second; hops not heard (end of stream,
        or before its start) are taken as the background."""
        hops = np.arange(o["hop"] - judge.LEAD, o["hop"] - judge.LEAD + judge.WINDOW)
        heard = (hops >= max(0, self.stored - self.RING)) & (hops < self.stored)
        mel = np.tile(o["background"], (judge.WINDOW, 1))
        pitch = np.zeros((judge.WINDOW, 3))
        mel[heard] = self.mel[hops[heard] % self.RING]
        pitch[heard] = self.pitch[hops[heard] % self.RING]
        return mel, pitch

    def judged(self, o: dict) -> list[SoundEvent]:
        mel, pitch = self.window(o)
        figures = judge.features(mel, o["background"], pitch, o["extras"])
        a = self.a
        if a.harvest:
            a.trace(detector="candidate", time=a.time_of(o["onset"]), figures=figures,
                    window=(mel, o["background"], pitch, o["extras"]))
            return []
        kind, confidence, scores = (a.judge or judge.shipped()).verdict(
            figures, judge.image(mel, o["background"]))
        a.trace(detector="candidate", time=a.time_of(o["onset"]), kind=kind, scores=scores)
        if kind is None or kind not in a.kinds:
            return []
        total = mel.sum(axis=1) / (o["background"].sum() + TINY)
        loud = np.flatnonzero(total[judge.LEAD:] >= 10 ** (ACTIVE_DB / 10))
        last_hop = o["hop"] + (int(loud[-1]) if len(loud) else 0)
        end_sample = (last_hop + 1) * a.hop
        if kind == "scream":
            # A long cry is judged again every second: it was reported once, at its start.
            heard_before = o["hop"] - self.cry_until <= HOPS_PER_SECOND
            self.cry_until = max(self.cry_until, last_hop)
            if heard_before:
                return []
        return [a.summary(kind, o["onset"], end_sample, o["hop"], last_hop, confidence)]

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
