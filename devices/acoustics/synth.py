"""Synthetic street sounds: events to detect, backgrounds, and confusers that must not alarm.

For tests and benchmarks only; nothing here is recorded or written anywhere. Every generator
draws all of its randomness from the numpy ``Generator`` it is given, so a seed gives the same
clip, and returns float32 samples at ``sample_rate``. Amplitudes are arbitrary (peaks about
0.5): ``mix`` and ``scale_to_level`` set the levels.

The sounds are built from what is known of their physics rather than from what the detectors
look for: a gunshot is a Friedlander blast wave and/or a supersonic N-wave, then ground
reflection, air absorption and street reverberation; a scream a glottal-like harmonic source
gliding in pitch through vocal-tract formants; and so on, with wide parameter ranges. The
confusers are the ones that fool real systems: door slams and hand claps (impulses), car horns,
sirens, dog barks and brake squeal (high-pitched harmonic or tonal sounds), keys, clinking
bottles and dropped metal (ringing partials), footsteps (a periodic low thud).
"""

import math

import numpy as np
from scipy import signal

from .levels import a_weighting_sos

GUNSHOTS = ("pistol", "rifle", "firecracker", "explosion")
BACKGROUNDS = ("traffic", "babble", "rain")
DISTRACTORS = ("door_slam", "car_horn", "birds", "footsteps", "voice", "metal_drop", "siren",
               "brake_squeal", "dog_bark", "clap", "keys", "clink")


# --- building blocks ----------------------------------------------------------------------------

def _seconds(n: int, sample_rate: int) -> np.ndarray:
    return np.arange(n) / sample_rate


def _filter(x: np.ndarray, kind: str, cutoff, sample_rate: int, order: int = 2) -> np.ndarray:
    nyquist = sample_rate / 2
    if np.ndim(cutoff):
        cutoff = [min(max(c, 10.0), 0.98 * nyquist) for c in cutoff]
    else:
        cutoff = min(max(cutoff, 10.0), 0.98 * nyquist)
    sos = signal.butter(order, cutoff, btype=kind, fs=sample_rate, output="sos")
    return signal.sosfilt(sos, x)


def _pink(rng, n: int) -> np.ndarray:
    """Pink (1/f) noise of unit RMS, shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / np.sqrt(f), n)
    return x / (np.std(x) + 1e-12)


def _brown(rng, n: int, sample_rate: int) -> np.ndarray:
    """Brown (1/f^2) noise above 20 Hz, unit RMS: the rumble of distant traffic."""
    x = _filter(np.cumsum(rng.standard_normal(n)), "highpass", 20, sample_rate)
    return x / (np.std(x) + 1e-12)


def _peak_normalise(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    top = float(np.max(np.abs(x))) if len(x) else 0.0
    return (x * (peak / top) if top > 0 else x).astype(np.float32)


def _damped(freq: float, tau: float, sample_rate: int, *, phase: float = 0.0,
            length: float | None = None) -> np.ndarray:
    n = int((length if length is not None else 5 * tau) * sample_rate)
    t = _seconds(max(n, 1), sample_rate)
    return np.sin(2 * math.pi * freq * t + phase) * np.exp(-t / tau)


def _add(target: np.ndarray, sound: np.ndarray, at: int) -> None:
    """Add ``sound`` into ``target`` from sample ``at`` (clipped at both ends)."""
    if at >= len(target) or at + len(sound) <= 0:
        return
    start = max(at, 0)
    end = min(at + len(sound), len(target))
    target[start:end] += sound[start - at:end - at]


def reverberate(x: np.ndarray, rng, sample_rate: int, *, rt60: float | None = None,
                drr_db: float | None = None, echoes: int | None = None) -> np.ndarray:
    """Convolve with a street-like impulse response: the direct sound, a few discrete
    reflections off facades (5 to 14 dB down, 15 to 200 ms late) and a diffuse tail, an
    exponentially decaying noise of the given RT60, darker than the direct sound (air and
    facades absorb high frequencies). The output is longer than the input by the tail."""
    rt60 = float(rng.uniform(0.2, 1.2)) if rt60 is None else rt60
    drr_db = float(rng.uniform(-4.0, 10.0)) if drr_db is None else drr_db
    echoes = int(rng.integers(0, 4)) if echoes is None else echoes
    n = int(rt60 * sample_rate)
    t = _seconds(n, sample_rate)
    tail = rng.standard_normal(n) * np.exp(-6.91 * t / rt60)
    predelay = int(rng.uniform(0.004, 0.025) * sample_rate)
    ramp = int(0.01 * sample_rate)
    tail[:predelay] = 0.0
    tail[predelay:predelay + ramp] *= np.linspace(0, 1, len(tail[predelay:predelay + ramp]))
    tail = _filter(tail, "lowpass", rng.uniform(1500, 6000), sample_rate, order=1)
    tail *= math.sqrt(10 ** (-drr_db / 10) / (np.sum(tail ** 2) + 1e-12))
    response = tail
    response[0] += 1.0
    for _ in range(echoes):
        delay = int(rng.uniform(0.015, 0.2) * sample_rate)
        if delay < n:
            response[delay] += rng.choice([-1, 1]) * 10 ** (-rng.uniform(5, 14) / 20)
    return signal.fftconvolve(x, response)[:len(x) + n]


def _friedlander(positive_ms: float, rise_ms: float, sample_rate: int,
                 decay: float = 1.5) -> np.ndarray:
    """A blast wave: a jump to the peak overpressure, a decay through zero at ``positive_ms``,
    and a longer, shallower negative phase."""
    span = positive_ms / 1000
    t = _seconds(int(span * 8 * sample_rate) + 2, sample_rate)
    p = (1 - t / span) * np.exp(-decay * t / span)
    if rise_ms > 0:
        p *= 1 - np.exp(-t / (rise_ms / 1000 / 3))
    return p


def _n_wave(duration_ms: float, sample_rate: int) -> np.ndarray:
    """The supersonic bullet's shock wave: an instant rise, a linear fall to the opposite
    extreme, an instant return (about 0.2 to 0.6 ms in all)."""
    n = max(3, int(round(duration_ms / 1000 * sample_rate)))
    return np.concatenate((np.linspace(1, -1, n), [0.0]))


# --- events -------------------------------------------------------------------------------------

def gunshot(rng, sample_rate: int = 16000, *, kind: str | None = None) -> np.ndarray:
    """One detonation heard in a street; its wavefront arrives at sample 0.

    ``kind``: "pistol" (muzzle blast only, subsonic), "rifle" (bullet N-wave, then the muzzle
    blast 5 to 80 ms later), "firecracker" (a very short, bright crack) or "explosion" (a long
    blast and a rumble); random when None.
    """
    kind = kind or str(rng.choice(GUNSHOTS, p=[0.35, 0.25, 0.25, 0.15]))
    if kind not in GUNSHOTS:
        raise ValueError(f"Type de détonation inconnu : {kind}")
    sr = sample_rate
    if kind == "pistol":
        x = _friedlander(rng.uniform(0.6, 3.0), rng.uniform(0.0, 0.3), sr, rng.uniform(1, 3))
        noise = rng.standard_normal(len(x) + int(0.03 * sr))
        noise = _filter(noise, "bandpass", (rng.uniform(200, 600), rng.uniform(2500, 6000)), sr)
        noise *= np.exp(-_seconds(len(noise), sr) / rng.uniform(0.003, 0.015))
        x = np.pad(x, (0, len(noise) - len(x)))
        x += noise / (np.max(np.abs(noise)) + 1e-12) * 10 ** (-rng.uniform(0, 12) / 20)
    elif kind == "rifle":
        crack = _n_wave(rng.uniform(0.2, 0.6), sr)
        blast = _friedlander(rng.uniform(1.0, 3.5), rng.uniform(0.0, 0.3), sr, rng.uniform(1, 3))
        delay = int(rng.uniform(0.005, 0.08) * sr)
        x = np.zeros(delay + len(blast))
        _add(x, crack * 10 ** (rng.uniform(-6, 4) / 20), 0)
        _add(x, blast, delay)
    elif kind == "firecracker":
        x = _friedlander(rng.uniform(0.15, 0.6), 0.0, sr, rng.uniform(1, 2))
        crackle = rng.standard_normal(int(rng.uniform(0.002, 0.01) * sr))
        crackle = _filter(crackle, "highpass", rng.uniform(800, 2500), sr)
        crackle *= np.exp(-_seconds(len(crackle), sr) / 0.002)
        x = np.pad(x, (0, max(0, len(crackle) - len(x))))
        x[:len(crackle)] += crackle * rng.uniform(0.1, 0.5) / (np.max(np.abs(crackle)) + 1e-12)
    else:  # explosion
        x = _friedlander(rng.uniform(5.0, 30.0), rng.uniform(0.0, 1.0), sr, rng.uniform(1, 2))
        n = int(rng.uniform(0.6, 2.0) * sr)
        rumble = _filter(rng.standard_normal(n), "lowpass", rng.uniform(80, 400), sr)
        rumble *= np.exp(-_seconds(n, sr) / rng.uniform(0.2, 0.8))
        rumble *= 1 - np.exp(-_seconds(n, sr) / 0.01)
        rumble *= 10 ** (-rng.uniform(0, 10) / 20) / (np.max(np.abs(rumble)) + 1e-12)
        x = np.pad(x, (0, max(0, n - len(x))))
        x[:n] += rumble
    # Ground reflection, then air absorption over 20 to 300 m: duller with distance.
    ground = np.zeros(int(rng.uniform(0.0003, 0.004) * sr) + len(x))
    _add(ground, x, 0)
    _add(ground, x * rng.uniform(0.3, 0.9), len(ground) - len(x))
    x = _filter(ground, "lowpass", rng.uniform(2500, 7500), sr)
    x = _filter(x, "highpass", 25, sr, order=1)
    return _peak_normalise(reverberate(x, rng, sr))


def burst(rng, sample_rate: int = 16000, *, kind: str | None = None,
          shots: int | None = None) -> tuple[np.ndarray, list[int]]:
    """Several shots of the same weapon from the same place (1 to 4, 0.15 to 0.7 s apart, each
    within 3 dB of the first); returns the clip and each shot's onset sample."""
    shots = int(rng.integers(1, 5)) if shots is None else shots
    one = gunshot(rng, sample_rate, kind=kind)
    onsets = [0]
    for _ in range(shots - 1):
        onsets.append(onsets[-1] + int(rng.uniform(0.15, 0.7) * sample_rate))
    out = np.zeros(onsets[-1] + len(one), np.float32)
    for index, onset in enumerate(onsets):
        gain = 1.0 if index == 0 else 10 ** (rng.uniform(-3, 3) / 20)
        _add(out, one * gain, onset)
    return _peak_normalise(out), onsets


def scream(rng, sample_rate: int = 16000) -> np.ndarray:
    """A cry of distress: 0.4 to 2 s of voiced sound, F0 400 to 1500 Hz rising then falling,
    with vibrato, jitter, sometimes roughness (fast amplitude modulation, a subharmonic) and
    breath noise, shaped by formants, then reverberated."""
    sr = sample_rate
    seconds = rng.uniform(0.4, 2.0)
    n = int(seconds * sr)
    t = _seconds(n, sr)
    low, high = 400.0, 1500.0
    start = rng.uniform(low, 1200)
    peak = min(high, start * 2 ** (rng.uniform(0, 7) / 12))
    end = max(low, peak * 2 ** (-rng.uniform(0, 10) / 12))
    turn = rng.uniform(0.1, 0.6)
    u = t / seconds
    rising = 0.5 - 0.5 * np.cos(math.pi * np.clip(u / turn, 0, 1))
    falling = 0.5 - 0.5 * np.cos(math.pi * np.clip((u - turn) / (1 - turn), 0, 1))
    contour = np.where(u < turn, start + (peak - start) * rising, peak + (end - peak) * falling)
    vibrato = rng.uniform(0, 60) * np.sin(2 * math.pi * rng.uniform(4, 8) * t
                                          + rng.uniform(0, 2 * math.pi))
    jitter = np.cumsum(rng.standard_normal(n)) / math.sqrt(sr)
    jitter = _filter(jitter - np.mean(jitter), "lowpass", 20, sr) * rng.uniform(0, 200)
    f0 = np.clip(contour * 2 ** ((vibrato + jitter) / 1200), low * 0.95, high * 1.05)
    phase = 2 * math.pi * np.cumsum(f0) / sr
    formants = [(rng.uniform(700, 1200), rng.uniform(90, 250)),
                (rng.uniform(1300, 2400), rng.uniform(100, 300)),
                (rng.uniform(2500, 3800), rng.uniform(150, 400))]
    tilt = rng.uniform(0.4, 1.4)
    x = np.zeros(n)
    for h in range(1, int(0.45 * sr / low) + 1):
        freq = h * f0
        if np.min(freq) >= 0.45 * sr:
            break
        gain = 0.05 + sum(1 / (1 + ((freq - fc) / (bw / 2)) ** 2) for fc, bw in formants)
        gain *= h ** -tilt * (freq < 0.45 * sr)
        x += gain * np.sin(h * phase + rng.uniform(0, 2 * math.pi))
    if rng.random() < 0.2:  # period doubling: a subharmonic, as in rough screams
        x += rng.uniform(0.05, 0.3) * np.sin(phase / 2) * np.max(np.abs(x)) / 2
    if rng.random() < 0.4:  # roughness: fast amplitude modulation
        depth = rng.uniform(0.1, 0.5)
        x *= 1 - depth + depth * np.sin(2 * math.pi * rng.uniform(30, 120) * t)
    breath = _filter(rng.standard_normal(n), "bandpass", (1000, 5000), sr)
    x += breath * np.std(x) / (np.std(breath) + 1e-12) * 10 ** (-rng.uniform(12, 25) / 20)
    attack, release = rng.uniform(0.02, 0.12), rng.uniform(0.05, 0.3)
    envelope = np.minimum(1, np.minimum(t / attack, (seconds - t) / release))
    shimmer = _filter(rng.standard_normal(n), "lowpass", 8, sr)
    envelope *= 10 ** (shimmer / (np.std(shimmer) + 1e-12) * rng.uniform(0, 2) / 20)
    return _peak_normalise(reverberate(x * np.clip(envelope, 0, None), rng, sr))


def glass(rng, sample_rate: int = 16000) -> np.ndarray:
    """A pane or bottle breaking: a sharp impact (sometimes with the low thud of the flexing
    pane), several damped partials between 2 and 8 kHz ringing 0.1 to 1 s, and shards falling
    and tinkling over the following second."""
    sr = sample_rate
    top = min(8000.0, 0.46 * sr)
    seconds = rng.uniform(0.6, 1.6)
    n = int(seconds * sr)
    x = np.zeros(n)
    impact = rng.standard_normal(int(0.02 * sr))
    impact = _filter(impact, "highpass", rng.uniform(400, 2000), sr)
    impact *= np.exp(-_seconds(len(impact), sr) / rng.uniform(0.001, 0.006))
    impact /= np.max(np.abs(impact)) + 1e-12
    _add(x, impact, 0)
    if rng.random() < 0.5:
        _add(x, _damped(rng.uniform(100, 400), rng.uniform(0.005, 0.02), sr)
             * rng.uniform(0.2, 1.0), 0)
    if rng.random() < 0.3:  # a second crack as the pane gives way
        _add(x, impact * rng.uniform(0.5, 0.9), int(rng.uniform(0.01, 0.08) * sr))
    for _ in range(int(rng.integers(4, 13))):
        freq = rng.uniform(1500, top) if rng.random() < 0.2 else rng.uniform(2000, top)
        tau = rng.uniform(0.015, 0.15)
        _add(x, _damped(freq, tau, sr, phase=rng.uniform(0, 6.3))
             * 10 ** (-rng.uniform(0, 20) / 20) * 0.6, int(rng.uniform(0, 0.004) * sr))
    for _ in range(int(rng.integers(3, 21))):
        at = int(seconds * rng.random() ** 1.5 * sr * 0.9 + 0.04 * sr)
        level = 10 ** (-rng.uniform(8, 30) / 20)
        click = rng.standard_normal(int(0.003 * sr)) * np.exp(-_seconds(int(0.003 * sr), sr)
                                                             / 0.0005)
        _add(x, _filter(click, "highpass", 2000, sr) * level, at)
        for _ in range(int(rng.integers(1, 4))):
            _add(x, _damped(rng.uniform(3000, top), rng.uniform(0.005, 0.04), sr)
                 * level * rng.uniform(0.3, 1.0), at)
    return _peak_normalise(reverberate(x, rng, sr, rt60=rng.uniform(0.2, 1.0),
                                       drr_db=rng.uniform(0, 12)))


def _note(freq: float, seconds: float, sample_rate: int, *, harmonics: int = 6,
          tilt: float = 1.0, decay: float | None = None, vibrato_cents: float = 0.0,
          rng=None) -> np.ndarray:
    n = max(1, int(seconds * sample_rate))
    t = _seconds(n, sample_rate)
    f = freq * 2 ** (vibrato_cents * np.sin(2 * math.pi * 5.5 * t) / 1200) if vibrato_cents \
        else np.full(n, freq)
    phase = 2 * math.pi * np.cumsum(f) / sample_rate
    x = np.zeros(n)
    for h in range(1, harmonics + 1):
        if h * freq >= 0.45 * sample_rate:
            break
        x += h ** -tilt * np.sin(h * phase)
    envelope = np.minimum(1, np.minimum(t / 0.01, (seconds - t) / 0.03))
    if decay:
        envelope *= np.exp(-t / decay)
    return x * np.clip(envelope, 0, None)


def music(rng, seconds: float, sample_rate: int = 16000) -> np.ndarray:
    """Amplified music as heard from the street: a kick drum (a 100-160 Hz sweep falling to
    45-70 Hz) at 80 to 160 BPM in one of several patterns, snare and hi-hat, a bass line, chords,
    sometimes a lead melody with vibrato, short breaks between songs; often heard through a wall
    or a window, hence dull (low-pass 300 Hz to 3 kHz)."""
    sr = sample_rate
    n = int(seconds * sr)
    out = np.zeros(n)
    position = 0.0
    while position < seconds:
        song = min(seconds - position, rng.uniform(30, 120))
        _add(out, _song(rng, song, sr), int(position * sr))
        position += song + rng.uniform(1.0, 5.0)
    if rng.random() < 0.6:
        out = _filter(out, "lowpass", rng.uniform(300, 3000), sr)
    return _peak_normalise(reverberate(out, rng, sr, rt60=rng.uniform(0.2, 0.6),
                                       drr_db=rng.uniform(3, 12), echoes=0)[:n])


def _song(rng, seconds: float, sr: int) -> np.ndarray:
    n = int(seconds * sr)
    out = np.zeros(n)
    beat = 60.0 / rng.uniform(80, 160)
    pattern = rng.choice(["four", "rock", "hiphop", "halftime"])
    kicks = {"four": [0, 1, 2, 3], "rock": [0, 2, 2.5], "hiphop": [0, 1.75, 2.5],
             "halftime": [0, 2.75]}[pattern]
    snares = [2] if pattern == "halftime" else [1, 3]
    k_start, k_end = rng.uniform(100, 160), rng.uniform(45, 70)
    k_sweep, k_decay = rng.uniform(0.03, 0.1), rng.uniform(0.08, 0.3)
    t = _seconds(int(0.5 * sr), sr)
    k_freq = k_end + (k_start - k_end) * np.exp(-t / k_sweep)
    kick = np.sin(2 * math.pi * np.cumsum(k_freq) / sr) * np.exp(-t / k_decay)
    kick[:int(0.003 * sr)] += rng.standard_normal(int(0.003 * sr)) * 0.3
    snare_noise = _filter(rng.standard_normal(int(0.25 * sr)), "bandpass", (1000, 5000), sr)
    snare = (snare_noise * 0.5 + _damped(rng.uniform(170, 230), 0.05, sr, length=0.25)) \
        * np.exp(-t[:int(0.25 * sr)] / rng.uniform(0.05, 0.15))
    hat = _filter(rng.standard_normal(int(0.06 * sr)), "highpass", min(6000, 0.4 * sr), sr) \
        * np.exp(-_seconds(int(0.06 * sr), sr) / 0.015)
    gains = {"kick": 10 ** (rng.uniform(-4, 0) / 20), "snare": 10 ** (rng.uniform(-14, -4) / 20),
             "hat": 10 ** (rng.uniform(-24, -12) / 20), "bass": 10 ** (rng.uniform(-12, -3) / 20),
             "chords": 10 ** (rng.uniform(-20, -8) / 20), "lead": 10 ** (rng.uniform(-18, -4) / 20)}
    root = int(rng.integers(28, 41))  # MIDI E1 to E2
    minor = rng.random() < 0.5
    triad = [0, 3, 7] if minor else [0, 4, 7]
    progression = [int(v) for v in rng.choice([0, 3, 5, 7, 8, 10], 3)]
    progression = [0] + progression
    has_lead = rng.random() < 0.5
    lead_vibrato = rng.uniform(15, 40) if rng.random() < 0.5 else 0.0
    scale = [0, 2, 3, 5, 7, 8, 10] if minor else [0, 2, 4, 5, 7, 9, 11]
    bar = 4 * beat
    bars = int(math.ceil(seconds / bar))
    for index in range(bars):
        at = index * bar
        chord = root + progression[index % 4]
        for position in kicks:
            _add(out, kick * gains["kick"], int((at + position * beat) * sr))
        for position in snares:
            _add(out, snare * gains["snare"], int((at + position * beat) * sr))
        for eighth in range(8):
            _add(out, hat * gains["hat"] * (1 if eighth % 2 == 0 else 0.6),
                 int((at + eighth * beat / 2) * sr))
        bass_freq = 440 * 2 ** ((chord - 69) / 12)
        for eighth in range(0, 8, int(rng.choice([1, 2, 4]))):
            _add(out, _note(bass_freq, beat / 2 * 0.9, sr, harmonics=8, tilt=1.2, decay=0.2)
                 * gains["bass"], int((at + eighth * beat / 2) * sr))
        pad = sum(_note(440 * 2 ** ((chord + 24 + step - 69) / 12), bar, sr, harmonics=6,
                        tilt=1.5) for step in triad)
        _add(out, pad * gains["chords"] / 3, int(at * sr))
        if has_lead:
            position = 0.0
            while position < 4:
                length = float(rng.choice([0.5, 1, 1, 2]))
                midi = chord + 36 + int(rng.choice(scale)) + int(rng.choice([0, 12]))
                freq = 440 * 2 ** ((midi - 69) / 12)
                if rng.random() < 0.8:
                    _add(out, _note(freq, length * beat * 0.95, sr, harmonics=5, tilt=1.0,
                                    vibrato_cents=lead_vibrato) * gains["lead"],
                         int((at + position * beat) * sr))
                position += length
    fade = min(n, int(0.5 * sr))
    out[-fade:] *= np.linspace(1, 0, fade)
    return out


# --- backgrounds --------------------------------------------------------------------------------

def background(rng, kind: str, seconds: float, sample_rate: int = 16000) -> np.ndarray:
    """Ambient street sound, about 0.1 RMS (use ``scale_to_level``).

    "traffic": the rumble of distant traffic (brown and pink noise) and vehicles passing by
    (engine harmonics with Doppler, tyre noise), 3 to 20 a minute; "babble": a terrace or a
    crowd, 5 to 15 voices (F0 90-250 Hz) talking over each other; "rain": dense droplet clicks
    over pink noise, with now and then a heavier drop from a gutter.
    """
    sr = sample_rate
    n = int(seconds * sr)
    if kind == "traffic":
        x = _brown(rng, n, sr) + _filter(_pink(rng, n), "lowpass", rng.uniform(600, 2000), sr) \
            * rng.uniform(0.3, 1.0)
        x *= 0.5
        rate = rng.uniform(3, 20) / 60
        at = -rng.uniform(0, 10)
        while True:
            at += rng.exponential(1 / rate)
            if at > seconds + 5:
                break
            x += _vehicle(rng, at, n, sr)
    elif kind == "babble":
        x = np.zeros(n)
        for _ in range(int(rng.integers(5, 16))):
            x += _voice(rng, n, sr, talk=rng.uniform(0.5, 0.9)) * 10 ** (-rng.uniform(0, 12) / 20)
        x += _pink(rng, n) * np.std(x) * 0.1
    elif kind == "rain":
        x = _pink(rng, n) * rng.uniform(0.2, 0.6)
        drops = np.zeros(n)
        count = rng.poisson(rng.uniform(300, 3000) * seconds)
        drops[rng.integers(0, n, count)] += rng.lognormal(0, 0.8, count) * \
            rng.choice([-1, 1], count)
        big = rng.poisson(rng.uniform(0.1, 1.0) * seconds)  # gutters, leaves, cars' roofs
        drops[rng.integers(0, n, big)] += rng.uniform(5, 15, big)
        # Each drop rings at its own pitch (a damped resonator): many pitches, not a few tones.
        which = rng.integers(0, 24, n)
        wet = np.zeros(n)
        for index in range(24):
            w = 2 * math.pi * rng.uniform(1500, min(6000, 0.4 * sr)) / sr
            r = math.exp(-1 / (rng.uniform(0.001, 0.004) * sr))
            wet += signal.lfilter([0, math.sin(w)], [1, -2 * r * math.cos(w), r * r],
                                  np.where(which == index, drops, 0.0))
        x += wet * 0.05
        x = _filter(x, "highpass", 50, sr)
    else:
        raise ValueError(f"Type de fond sonore inconnu : {kind}")
    return (x / (np.std(x) + 1e-12) * 0.1).astype(np.float32)


def _vehicle(rng, at: float, n: int, sr: int) -> np.ndarray:
    """One vehicle passing at ``at`` seconds: sound rising and falling as 1/distance^2."""
    out = np.zeros(n)
    speed = rng.uniform(8, 20)
    distance = rng.uniform(3, 20)
    half = 6 * distance / speed + 2
    start = max(0, int((at - half) * sr))
    end = min(n, int((at + half) * sr))
    if end <= start:
        return out
    t = _seconds(end - start, sr) + start / sr - at
    gain = 1 / (1 + (speed * t / distance) ** 2)
    doppler = 1 / (1 + speed * (speed * t) / np.sqrt(distance ** 2 + (speed * t) ** 2) / 343)
    truck = rng.random() < 0.15
    f0 = rng.uniform(20, 40) if truck else rng.uniform(30, 70)
    phase = 2 * math.pi * np.cumsum(f0 * doppler) / sr
    engine = sum(h ** -1.0 * np.sin(h * phase + rng.uniform(0, 6.3)) for h in range(1, 8))
    tyres = _filter(rng.standard_normal(end - start), "bandpass",
                    (rng.uniform(200, 500), rng.uniform(1200, 3000)), sr)
    level = rng.uniform(0.3, 1.2) * (2.0 if truck else 1.0)
    out[start:end] = level * gain * (engine * rng.uniform(0.1, 0.5) + tyres)
    return out


def _voice(rng, n: int, sr: int, *, talk: float = 0.7, f0_range=(90.0, 250.0)) -> np.ndarray:
    """One person talking: glottal pulses at a wandering F0 through changing vowel formants,
    cut into syllables and phrases; silent ``1 - talk`` of the time. The slow contours (pitch,
    syllables, phrases) are drawn at 200 Hz and interpolated: babble needs many voices."""
    control = 200
    m = n * control // sr + 2
    slow_t = np.arange(m) / control
    t = _seconds(n, sr)
    intonation = _filter(rng.standard_normal(m), "lowpass", 2, control)
    intonation /= np.std(intonation) + 1e-12
    f0 = rng.uniform(*f0_range) * 2 ** (intonation * rng.uniform(1, 3) / 12)
    cycles = np.cumsum(np.interp(t, slow_t, f0)) / sr
    pulses = np.zeros(n)
    pulses[1:][np.diff(np.floor(cycles)) > 0] = 1.0
    source = _filter(pulses, "lowpass", 3000, sr)
    vowels = []
    for _ in range(3):
        y = np.zeros(n)
        for fc, bw in ((rng.uniform(300, 900), 100), (rng.uniform(900, 2400), 150),
                       (rng.uniform(2400, 3300), 200)):
            b, a = signal.iirpeak(min(fc, 0.45 * sr), fc / bw, fs=sr)
            y += signal.lfilter(b, a, source)
        vowels.append(y)
    syllable = rng.uniform(0.12, 0.3)
    count = int(n / sr / syllable) + 1
    choice = rng.integers(0, 3, count)
    index = np.minimum((t / syllable).astype(int), count - 1)
    x = np.choose(choice[index], vowels)
    envelope = np.sin(math.pi * ((slow_t / syllable) % 1.0)) ** 2
    phrase = _filter(rng.standard_normal(m), "lowpass", 0.3, control)
    envelope *= phrase > np.quantile(phrase, 1 - talk)
    envelope = _filter(envelope, "lowpass", 30, control)
    return x * np.interp(t, slow_t, envelope)


def scale_to_level(x: np.ndarray, laeq_db: float, sample_rate: int = 16000,
                   calibration_db: float = 120.0) -> np.ndarray:
    """``x`` scaled so that its LAeq reads ``laeq_db`` on a sensor of that calibration."""
    weighted = signal.sosfilt(a_weighting_sos(sample_rate), x)
    rms = math.sqrt(float(np.mean(weighted ** 2))) + 1e-20
    return (x * (10 ** ((laeq_db - calibration_db) / 20) / rms)).astype(np.float32)


# --- distractors --------------------------------------------------------------------------------

def distractor(rng, kind: str | None = None, sample_rate: int = 16000) -> np.ndarray:
    """A sound that must not raise an alarm, yet resembles one that should. ``kind`` in
    DISTRACTORS (random when None)."""
    kind = kind or str(rng.choice(DISTRACTORS))
    sr = sample_rate
    top = 0.45 * sr
    if kind == "door_slam":  # a car or building door: a low thump, then the latch
        thump = _damped(rng.uniform(40, 150), rng.uniform(0.01, 0.05), sr, length=0.3)
        noise = _filter(rng.standard_normal(int(0.3 * sr)), "lowpass", rng.uniform(300, 1500), sr)
        noise *= np.exp(-_seconds(len(noise), sr) / rng.uniform(0.01, 0.04))
        x = thump + noise / (np.max(np.abs(noise)) + 1e-12) * rng.uniform(0.3, 1.0)
        x *= 1 - np.exp(-_seconds(len(x), sr) / rng.uniform(0.001, 0.006))
        latch = _filter(rng.standard_normal(int(0.01 * sr)), "highpass", 2000, sr)
        latch *= np.exp(-_seconds(len(latch), sr) / 0.002) * rng.uniform(0.05, 0.4)
        _add(x, latch / (np.max(np.abs(latch)) + 1e-12) * rng.uniform(0.05, 0.4),
             int(rng.uniform(0, 0.02) * sr))
        x = reverberate(x, rng, sr)
    elif kind == "car_horn":  # one or two steady tones, rich in harmonics, honked 1-3 times
        tones = [rng.uniform(350, 520)]
        if rng.random() < 0.6:
            tones.append(tones[0] * 2 ** (rng.choice([3, 4]) / 12))
        x = np.zeros(0)
        for _ in range(int(rng.integers(1, 4))):
            length = rng.uniform(0.2, 1.5)
            honk = sum(_note(f, length, sr, harmonics=12, tilt=0.7) for f in tones)
            x = np.concatenate((x, honk, np.zeros(int(rng.uniform(0.1, 0.4) * sr))))
        x = reverberate(x, rng, sr)
    elif kind == "birds":  # chirps sweeping 2-7 kHz
        x = np.zeros(int(rng.uniform(1.0, 3.0) * sr))
        for _ in range(int(rng.integers(3, 13))):
            length = rng.uniform(0.03, 0.15)
            m = int(length * sr)
            f = np.linspace(rng.uniform(2000, 7000), rng.uniform(2000, 7000), m)
            f = np.minimum(f, top)
            chirp = np.sin(2 * math.pi * np.cumsum(f) / sr) * np.sin(math.pi * np.arange(m) / m)
            _add(x, chirp * rng.uniform(0.3, 1.0), int(rng.uniform(0, len(x) / sr - 0.15) * sr))
        x = reverberate(x, rng, sr, rt60=rng.uniform(0.2, 0.6))
    elif kind == "footsteps":  # heel thuds and scuffs at a walking pace
        interval = 1 / rng.uniform(1.5, 2.3)
        steps = int(rng.integers(4, 13))
        x = np.zeros(int((steps * interval + 0.5) * sr))
        for index in range(steps):
            thud = _damped(rng.uniform(60, 200), rng.uniform(0.005, 0.02), sr, length=0.1)
            scuff = _filter(rng.standard_normal(int(0.05 * sr)), "bandpass", (500, 4000), sr)
            scuff *= np.exp(-_seconds(len(scuff), sr) / 0.01) * rng.uniform(0.05, 0.3)
            thud[:len(scuff)] += scuff
            _add(x, thud * rng.uniform(0.6, 1.0),
                 int((index * interval + rng.normal(0, 0.02)) * sr) + int(0.01 * sr))
        x = reverberate(x, rng, sr)
    elif kind == "voice":  # one person talking, or calling out
        n = int(rng.uniform(1.0, 3.0) * sr)
        x = _voice(rng, n, sr, talk=0.9, f0_range=(90.0, 300.0))
        x = reverberate(x, rng, sr)
    elif kind == "metal_drop":  # a tool or a pan on the pavement: ringing, bouncing
        partials = [(rng.uniform(300, 4000), rng.uniform(0.1, 0.8)) for _ in range(
            int(rng.integers(3, 8)))]
        x = np.zeros(int(2.5 * sr))
        at, level = 0.0, 1.0
        for _ in range(int(rng.integers(1, 5))):
            hit = np.zeros(int(1.5 * sr))
            click = rng.standard_normal(int(0.003 * sr))
            hit[:len(click)] += click * 0.5
            for freq, tau in partials:
                _add(hit, _damped(freq, tau, sr, length=1.5, phase=rng.uniform(0, 6.3))
                     * rng.uniform(0.2, 1.0), 0)
            _add(x, hit * level, int(at * sr))
            at += rng.uniform(0.08, 0.4) * level
            level *= rng.uniform(0.3, 0.7)
        x = reverberate(x, rng, sr)
    elif kind == "siren":  # French two-tone ("pin-pon") or a wail, passing by over seconds
        seconds = rng.uniform(6.0, 15.0)
        n = int(seconds * sr)
        t = _seconds(n, sr)
        if rng.random() < 0.5:
            low = rng.uniform(420, 460)
            f = np.where((t % 1.0) < 0.5, low, low * 2 ** (5 / 12))
        else:
            period = rng.uniform(2.0, 4.0)
            f = 650 + 550 * (0.5 - 0.5 * np.cos(2 * math.pi * t / period))
        phase = 2 * math.pi * np.cumsum(f) / sr
        x = sum(h ** -0.9 * np.sin(h * phase) * (h * f < top) for h in range(1, 10))
        x *= 1 / (1 + ((t - seconds / 2) / rng.uniform(1.5, 4.0)) ** 2)
        x = reverberate(x, rng, sr)
    elif kind == "brake_squeal":  # a nearly pure tone with a warble
        n = int(rng.uniform(0.5, 2.0) * sr)
        t = _seconds(n, sr)
        f = rng.uniform(1200, min(5000, top)) * 2 ** (rng.uniform(0, 40) / 1200 * np.sin(
            2 * math.pi * rng.uniform(3, 12) * t))
        phase = 2 * math.pi * np.cumsum(f) / sr
        x = np.sin(phase) + rng.uniform(0, 0.2) * np.sin(2 * phase) * (2 * f < top)
        x *= np.minimum(1, np.minimum(t / 0.1, (t[-1] - t) / 0.1))
        x = reverberate(x, rng, sr)
    elif kind == "dog_bark":  # short harsh harmonic barks, a breath apart
        x = np.zeros(int(rng.uniform(1.5, 3.0) * sr))
        f0 = rng.uniform(250, 700)
        at = 0.01
        for _ in range(int(rng.integers(1, 5))):
            length = rng.uniform(0.08, 0.25)
            m = int(length * sr)
            tt = _seconds(m, sr)
            f = f0 * 2 ** (rng.uniform(-2, 2) / 12) * (1 + 0.2 * np.sin(math.pi * tt / length))
            phase = 2 * math.pi * np.cumsum(f) / sr
            bark = sum(h ** -0.8 * np.sin(h * phase) * (h * f < top) for h in range(1, 12))
            bark += _filter(rng.standard_normal(m), "bandpass", (500, 4000), sr) * 0.3
            bark *= np.sin(math.pi * tt / length) ** 0.5
            _add(x, bark, int(at * sr))
            at += length + rng.uniform(0.12, 0.4)
        x = reverberate(x, rng, sr)
    elif kind == "clap":  # hand claps: short mid-frequency noise bursts
        x = np.zeros(int(rng.uniform(0.8, 2.5) * sr))
        interval = rng.uniform(0.15, 0.5)
        for index in range(int(rng.integers(1, 7))):
            m = int(0.03 * sr)
            burst_ = _filter(rng.standard_normal(m), "bandpass",
                             (rng.uniform(500, 1000), rng.uniform(2000, 4000)), sr)
            burst_ *= np.exp(-_seconds(m, sr) / rng.uniform(0.003, 0.01))
            burst_ *= 1 - np.exp(-_seconds(m, sr) / rng.uniform(0.0003, 0.002))
            _add(x, burst_, int((index * interval + 0.01) * sr))
        x = reverberate(x, rng, sr)
    elif kind == "keys":  # a bunch of keys shaken: many light metallic ticks
        seconds = rng.uniform(0.5, 1.5)
        x = np.zeros(int((seconds + 0.2) * sr))
        for _ in range(int(rng.integers(5, 25))):
            at = int(rng.uniform(0, seconds) * sr)
            level = rng.uniform(0.2, 1.0)
            click = _filter(rng.standard_normal(int(0.002 * sr)), "highpass", 2500, sr)
            _add(x, click * level, at)
            for _ in range(int(rng.integers(1, 4))):
                _add(x, _damped(rng.uniform(2500, top), rng.uniform(0.005, 0.05), sr)
                     * level * 0.5, at)
        x = reverberate(x, rng, sr, rt60=rng.uniform(0.2, 0.6))
    elif kind == "clink":  # glasses or bottles knocked together, nothing breaks
        x = np.zeros(int(1.5 * sr))
        for index in range(int(rng.integers(1, 3))):
            at = int(index * rng.uniform(0.2, 0.5) * sr)
            click = _filter(rng.standard_normal(int(0.002 * sr)), "highpass", 1500, sr)
            _add(x, click * rng.uniform(0.2, 0.6), at)
            for _ in range(int(rng.integers(1, 4))):
                _add(x, _damped(rng.uniform(1500, min(6000, top)), rng.uniform(0.05, 0.4), sr,
                                length=1.2) * rng.uniform(0.3, 1.0), at)
        x = reverberate(x, rng, sr, rt60=rng.uniform(0.2, 0.8))
    else:
        raise ValueError(f"Type de son parasite inconnu : {kind}")
    return _peak_normalise(x)


# --- mixing -------------------------------------------------------------------------------------

def active_span(event: np.ndarray, sample_rate: int = 16000, *, within_db: float = 20.0,
                weighted: np.ndarray | None = None) -> tuple[int, int]:
    """First and last sample (end excluded) of the 10 ms frames of ``event`` whose A-weighted
    energy is within ``within_db`` of its loudest frame."""
    if weighted is None:
        weighted = signal.sosfilt(a_weighting_sos(sample_rate), event)
    size = max(1, sample_rate // 100)
    count = max(1, len(weighted) // size)
    frames = (weighted[:count * size] ** 2).reshape(count, size).sum(axis=1)
    loud = np.flatnonzero(frames >= frames.max() * 10 ** (-within_db / 10))
    if not len(loud):
        return 0, len(event)
    return int(loud[0] * size), int(min(len(event), (loud[-1] + 1) * size))


def mix(event: np.ndarray, bg: np.ndarray, snr_db: float, offset: int | None = None,
        rng=None, *, sample_rate: int = 16000) -> np.ndarray:
    """``bg`` with ``event`` added from sample ``offset`` (random if None, then ``rng`` is
    needed), scaled so that the event's energy over its active span (its frames within 20 dB of
    its loudest) is ``snr_db`` above the background's over the same samples. Energies are
    A-weighted, as levels are: low-frequency rumble does not make a loud event look faint."""
    event = np.asarray(event, np.float64)
    bg = np.asarray(bg, np.float64)
    if offset is None:
        if rng is None:
            raise ValueError("Un générateur aléatoire est nécessaire pour un décalage aléatoire.")
        offset = int(rng.integers(0, max(1, len(bg) - len(event))))
    sos = a_weighting_sos(sample_rate)
    weighted = signal.sosfilt(sos, event)
    first, last = active_span(event, sample_rate, weighted=weighted)
    bg_weighted = signal.sosfilt(sos, bg)
    span = bg_weighted[offset + first:offset + last]
    if not len(span):
        raise ValueError("L'événement tombe hors du fond sonore.")
    event_energy = float(np.mean(weighted[first:first + len(span)] ** 2))
    bg_energy = float(np.mean(span ** 2)) + 1e-20
    gain = math.sqrt(bg_energy * 10 ** (snr_db / 10) / (event_energy + 1e-20))
    out = bg.copy()
    _add(out, event * gain, offset)
    return out.astype(np.float32)


# --- scenes: clips with their ground truth, for tests and benchmarks ----------------------------

EVENTS = ("detonation", "scream", "glass")


def scene(rng, truth: str, *, seconds: float = 8.0, sample_rate: int = 16000,
          kind: str | None = None, snr_db: float | None = None,
          background_kind: str | None = None) -> tuple[np.ndarray, dict]:
    """A street clip and what is in it.

    ``truth``: "detonation" (a burst of 1 to 4 shots), "scream", "glass", "distractor" or
    "background" (nothing but the street). The background (traffic, babble or rain, random
    unless given) sits at 50-65 dB(A) for a sensor calibrated at 120 dB; the sound starts 2.5
    to 4 s in, at an SNR (``mix``) of 0-20 dB unless given. ``kind``: the gun or distractor
    kind (random when None). The info dict gives truth, kind, background, level_db, snr_db,
    offset (samples) and onsets (samples, each shot of a burst).
    """
    sr = sample_rate
    background_kind = background_kind or str(rng.choice(BACKGROUNDS))
    level = float(rng.uniform(50, 65))
    snr = float(rng.uniform(0, 20)) if snr_db is None else float(snr_db)
    bg = scale_to_level(background(rng, background_kind, seconds, sr), level, sr)
    offset = int(rng.uniform(2.5, 4.0) * sr)
    onsets: list[int] = []
    if truth == "detonation":
        kind = kind or str(rng.choice(GUNSHOTS, p=[0.35, 0.25, 0.25, 0.15]))
        event, shots = burst(rng, sr, kind=kind)
        onsets = [offset + shot for shot in shots]
    elif truth == "scream":
        event = scream(rng, sr)
    elif truth == "glass":
        event = glass(rng, sr)
    elif truth == "distractor":
        kind = kind or str(rng.choice(DISTRACTORS))
        event = distractor(rng, kind, sr)
    elif truth == "background":
        event = None
    else:
        raise ValueError(f"Scène inconnue : {truth}")
    clip = bg
    if event is not None:
        clip = mix(event[:len(bg) - offset], bg, snr, offset, sample_rate=sr)
    info = {"truth": truth, "kind": kind, "background": background_kind, "level_db": level,
            "snr_db": snr if event is not None else None, "offset": offset, "onsets": onsets}
    return clip, info


def music_scene(rng, seconds: float, *, sample_rate: int = 16000, music_db: float | None = None,
                background_kind: str | None = None) -> tuple[np.ndarray, dict]:
    """Music from a bar or a flat over a street background, from 5 s to the end.

    The music's own LAeq is ``music_db`` (random 68-80 dB(A) when None); the background is
    set 0-20 dB below it (the SNR) and kept at 45-68 dB(A). Info: music_db, level_db (the
    background), snr_db, background, offset.
    """
    sr = sample_rate
    background_kind = background_kind or str(rng.choice(BACKGROUNDS))
    music_db = float(rng.uniform(68, 80)) if music_db is None else float(music_db)
    level = float(np.clip(music_db - rng.uniform(0, 20), 45, 68))
    bg = scale_to_level(background(rng, background_kind, seconds, sr), level, sr)
    offset = 5 * sr
    tune = music(rng, seconds - 5, sr)
    clip = mix(tune, bg, music_db - level, offset, sample_rate=sr)
    info = {"truth": "music", "kind": None, "background": background_kind, "level_db": level,
            "music_db": music_db, "snr_db": music_db - level, "offset": offset, "onsets": []}
    return clip, info
