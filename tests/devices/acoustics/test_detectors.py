"""Detectors on synthetic street sound: what they find, what they leave alone, and how the
stream is handled (block sizes, gaps, memory). Seeds here (3 to 41) are not the benchmark's."""

import tracemalloc

import numpy as np
import pytest

from devices.acoustics import synth
from devices.acoustics.detectors import Analyser, MusicSettings
from devices.acoustics.types import SoundEvent

SR = 16000
T0 = 1_768_604_400.0  # 2026-01-16 23:00 UTC


def run(samples: np.ndarray, *, block: int = 4000, analyser: Analyser | None = None,
        t0: float = T0):
    """Feed ``samples`` in blocks of ``block`` (or of the given sizes); levels and events."""
    analyser = analyser or Analyser(SR)
    levels, events = [], []
    sizes = block if isinstance(block, list) else None
    start = 0
    while start < len(samples):
        size = sizes.pop(0) if sizes else (block if not isinstance(block, list) else 4000)
        found_levels, found = analyser.feed(t0 + start / SR, samples[start:start + size])
        levels += found_levels
        events += found
        start += size
    events += analyser.flush()[1]
    return levels, events


def kinds_of(events: list[SoundEvent]) -> set[str]:
    return {event.kind for event in events}


class EveryAbruptSoundIsAShot:
    """A judge calling every abrupt candidate (not a swell) a detonation: the trigger, its
    bursts, masks and onset timing tested apart from what the learned model makes of
    generated sounds (it learned real ones; the benchmark measures it on real recordings)."""

    def verdict(self, figures, image=None):
        if figures[-1] == 1:  # the ``swell`` extra: a slowly rising sound
            return None, 0.0, {}
        return "detonation", 0.9, {"detonation": 0.9}


# --- each detector, over each background --------------------------------------------------------

@pytest.mark.parametrize("background", synth.BACKGROUNDS)
@pytest.mark.parametrize("truth", ["detonation", "scream", "glass"])
def test_each_detector_finds_its_sound_over_each_background(truth, background):
    # Three clips at 12 dB SNR; the detectors' recall there is about 90 %: one miss allowed.
    found = []
    for seed in (3, 5, 6):
        clip, info = synth.scene(np.random.default_rng(seed), truth, seconds=7.0,
                                 snr_db=12.0, background_kind=background)
        _, events = run(clip)
        found.append(truth in kinds_of(events))
        assert kinds_of(events) <= {truth}, f"seed {seed}: {[e.kind for e in events]}"
        for event in events:
            assert 0.5 <= event.confidence <= 1.0
            assert event.start >= T0 + info["offset"] / SR - 0.05
            assert event.peak_db > info["level_db"]
    # The judge learned real sounds: the generator's screams are often unlike them.
    assert sum(found) >= (1 if truth == "scream" else 2)


@pytest.mark.parametrize("background", synth.BACKGROUNDS)
def test_the_street_alone_raises_nothing(background):
    clip = synth.scale_to_level(
        synth.background(np.random.default_rng(7), background, 40.0), 62.0)

    levels, events = run(clip)

    assert events == []
    assert len(levels) == 40
    mean = 10 * np.log10(np.mean([10 ** (second.laeq / 10) for second in levels]))
    assert mean == pytest.approx(62.0, abs=0.5)


@pytest.mark.parametrize("kind", ["door_slam", "car_horn", "birds", "footsteps", "voice",
                                  "siren", "brake_squeal", "clap"])
def test_confusers_raise_nothing(kind):
    # Each fools the detectors now and then (the benchmark measures how often, per kind): one
    # false alarm in three clips is allowed, not a confuser that always passes.
    raised = {}
    for seed in (3, 4, 5):
        clip, _ = synth.scene(np.random.default_rng(seed), "distractor", kind=kind,
                              seconds=9.0, snr_db=12.0)
        _, events = run(clip)
        if events:
            raised[seed] = [e.kind for e in events]
    assert len(raised) <= 1, f"{kind}: {raised}"


# --- detonations: timing, bursts, echoes --------------------------------------------------------

@pytest.mark.parametrize("kind", ["pistol", "rifle", "firecracker"])
def test_a_detonation_onset_is_timed_to_the_millisecond(kind):
    # Timing, not recall: the judge misses about one loud pistol shot in ten over a quiet
    # street (that of seed 11 among them); the benchmark measures how often.
    rng = np.random.default_rng(12)
    shot = synth.gunshot(rng, SR, kind=kind)
    quiet = synth.scale_to_level(synth.background(rng, "traffic", 6.0), 45.0)
    offset = 2 * SR + 1234  # not on a hop or sub-hop boundary
    clip = synth.mix(shot, quiet, 30.0, offset)

    _, events = run(clip)

    assert [e.kind for e in events] == ["detonation"]
    assert abs(events[0].start - (T0 + offset / SR)) <= 0.001


def test_a_burst_of_three_shots_gives_three_candidates_and_their_echoes_none():
    rng = np.random.default_rng(12)
    shot = synth.gunshot(rng, SR, kind="pistol")
    # A street with strong facade echoes and a long reverberation.
    shot = synth.reverberate(shot, rng, SR, rt60=1.0, drr_db=0.0, echoes=3)
    street = synth.scale_to_level(synth.background(rng, "traffic", 8.0), 55.0)
    onsets = [2 * SR, int(2.3 * SR), int(2.6 * SR)]
    clip = street
    for onset in onsets:
        clip = synth.mix(shot, clip, 15.0, onset)

    _, events = run(clip, analyser=Analyser(SR, judge=EveryAbruptSoundIsAShot()))

    # Each shot is a candidate of its own, timed to the millisecond; what the reverberation
    # adds (a candidate at most, the facades' echoes being masked) is the judge's to reject.
    for onset in onsets:
        assert sum(abs(e.start - (T0 + onset / SR)) <= 0.001 for e in events) == 1
    assert len(events) <= 4


def test_a_footstep_just_before_a_shot_does_not_hide_it():
    """A step 90 ms before the shot opens the look at a candidate first; the shot, far stronger,
    is judged on its own rather than taken for the step's echo."""
    rng = np.random.default_rng(14)
    street = synth.scale_to_level(synth.background(rng, "traffic", 6.0), 55.0)
    step = synth.distractor(rng, "footsteps", SR)[:int(0.08 * SR)]
    offset = 3 * SR + 77
    clip = synth.mix(step, street, 8.0, offset - int(0.09 * SR))
    clip = synth.mix(synth.gunshot(rng, SR, kind="pistol"), clip, 20.0, offset)

    events, figures = traced(clip, judge=EveryAbruptSoundIsAShot())

    judged = [f["time"] - T0 for f in figures]
    assert any(abs(t - (offset / SR - 0.09)) <= 0.02 for t in judged)  # the step, on its own
    shots = [e for e in events if abs(e.start - (T0 + offset / SR)) <= 0.001]
    assert len(shots) == 1  # and the shot, timed to the millisecond


def traced(clip: np.ndarray, judge=None) -> tuple[list[SoundEvent], list[dict]]:
    """The events of ``clip`` and every candidate judged on the way."""
    analyser = Analyser(SR, judge=judge)
    analyser._trace = []
    _, events = run(clip, analyser=analyser)
    return events, [f for f in analyser._trace if f["detector"] == "candidate"]


def test_event_figures_are_consistent():
    clip, info = synth.scene(np.random.default_rng(13), "glass", seconds=7.0, snr_db=15.0)

    _, events = run(clip, analyser=Analyser(SR, judge=EveryAbruptSoundIsAShot()))

    event = events[0]
    assert event.end > event.start
    assert event.peak_db >= event.laeq_db - 1.0
    assert sorted(event.bands) == [63, 125, 250, 500, 1000, 2000, 4000]
    assert all(round(level, 1) == level for level in event.bands.values())


# --- the stream: block sizes, gaps, memory ------------------------------------------------------

def busy_street(seed: int, seconds: float = 16.0) -> np.ndarray:
    """Traffic with a burst of shots at 3 s, a scream at 7 s and breaking glass at 11 s."""
    rng = np.random.default_rng(seed)
    clip = synth.scale_to_level(synth.background(rng, "traffic", seconds), 58.0)
    shots, _ = synth.burst(rng, SR, kind="pistol", shots=2)
    for sound, at in ((shots, 3.0), (synth.scream(rng), 7.0), (synth.glass(rng), 11.0)):
        if at + 2 < seconds:
            clip = synth.mix(sound, clip, 14.0, int(at * SR))
    return clip


def test_results_do_not_depend_on_how_the_stream_is_cut():
    clip = busy_street(21)
    rng = np.random.default_rng(22)
    random_sizes = [int(v) for v in rng.integers(1, 9000, 200)]

    whole = run(clip, block=len(clip))
    small = run(clip, block=160)
    ragged = run(clip, block=random_sizes)

    assert whole[1], "the learned judge called nothing on the busy street"
    for levels, events in (small, ragged):
        assert [e.kind for e in events] == [e.kind for e in whole[1]]
        for event, reference in zip(events, whole[1]):
            assert event.start == pytest.approx(reference.start, abs=0.001)
            # The end is read off the loud hops of the second judged (20 ms steps).
            assert event.end == pytest.approx(reference.end, abs=0.1)
            assert event.confidence == pytest.approx(reference.confidence, abs=0.01)
        assert len(levels) == len(whole[0]) == 16
        for second, reference in zip(levels, whole[0]):
            assert second.start == pytest.approx(reference.start, abs=1e-6)
            assert second.laeq == pytest.approx(reference.laeq, abs=0.01)
            assert second.lafmax == pytest.approx(reference.lafmax, abs=0.01)
            for centre, level in second.bands.items():
                assert level == pytest.approx(reference.bands[centre], abs=0.01)


def test_a_gap_in_the_stream_starts_it_over():
    clip = busy_street(23, seconds=12.0)
    analyser = Analyser(SR)
    levels, events = analyser.feed(T0, clip[:int(3.2 * SR)])  # the burst at 3 s, undecided yet
    assert [e.kind for e in events] == []

    # 0.5 s lost: the pending shots are decided, and a new stream begins at the new time.
    levels, events = analyser.feed(T0 + 3.7, clip[int(3.2 * SR):int(6.2 * SR)])

    assert "detonation" in kinds_of(events)
    # Each event belongs to one side of the gap: none is stamped inside it.
    assert any(e.start < T0 + 3.3 for e in events if e.kind == "detonation")
    assert all(e.start < T0 + 3.3 or e.start >= T0 + 3.7 for e in events)
    assert [round(second.start - T0, 3) for second in levels] == [3.7, 4.7, 5.7]


def test_a_small_clock_jitter_does_not_break_the_stream():
    clip = busy_street(24, seconds=6.0)
    analyser = Analyser(SR)
    levels, _ = analyser.feed(T0, clip[:SR * 3])
    more, _ = analyser.feed(T0 + 3.0 + 0.012, clip[SR * 3:])  # 12 ms late: same stream

    assert [round(second.start - T0, 3) for second in levels + more] == [0, 1, 2, 3, 4, 5]


def test_an_overlapping_block_starts_over_too():
    clip = busy_street(25, seconds=6.0)
    analyser = Analyser(SR)
    analyser.feed(T0, clip[:SR * 3])
    levels, _ = analyser.feed(T0 + 2.9, clip[SR * 3:])  # 100 ms back in time

    assert [round(second.start - T0, 3) for second in levels] == [2.9, 3.9, 4.9]


def test_memory_stays_bounded_however_long_the_stream():
    rng = np.random.default_rng(26)
    minute = np.concatenate([synth.scene(rng, truth, seconds=6.0)[0] for truth in
                             ("detonation", "scream", "glass", "distractor", "background")])
    analyser = Analyser(SR)
    tracemalloc.start()
    try:
        held = []
        for repeat in range(6):
            for start in range(0, len(minute), 4000):
                analyser.feed(T0 + repeat * 30 + start / SR, minute[start:start + 4000])
            held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()

    assert max(held[1:]) - held[1] < 64 * 1024  # bytes: no growth after the first 30 s
    assert held[-1] < 2 * 1024 * 1024


# --- music at night -----------------------------------------------------------------------------

def music_clip(seed: int, seconds: float = 45.0, music_db: float = 74.0) -> np.ndarray:
    clip, _ = synth.music_scene(np.random.default_rng(seed), seconds, music_db=music_db,
                                background_kind="traffic")
    return clip


def test_loud_music_at_night_gives_one_event_once_it_has_lasted():
    clip = music_clip(31)
    analyser = Analyser(SR, music=MusicSettings(min_seconds=20.0))

    _, events = run(clip, analyser=analyser)

    music = [e for e in events if e.kind == "music"]
    assert len(music) == 1
    assert T0 + 4 <= music[0].start <= T0 + 12  # the music starts at 5 s
    assert 20.0 <= music[0].end - music[0].start <= 30.0
    assert music[0].laeq_db > 65 and 0.5 <= music[0].confidence <= 1


def test_music_outside_the_night_window_is_left_alone():
    clip = music_clip(31)
    daytime = MusicSettings(min_seconds=20.0, active=lambda t: False)

    _, events = run(clip, analyser=Analyser(SR, music=daytime))

    assert "music" not in kinds_of(events)


def test_the_night_window_is_asked_with_sensor_time():
    asked = []
    settings = MusicSettings(min_seconds=20.0, active=lambda t: asked.append(t) or True)

    run(music_clip(31, seconds=10.0), analyser=Analyser(SR, music=settings))

    assert asked and all(T0 <= t < T0 + 10 for t in asked)


def test_quiet_music_and_loud_traffic_are_not_music_nuisances():
    quiet = music_clip(32, music_db=58.0)
    traffic = synth.scale_to_level(synth.background(np.random.default_rng(33), "traffic",
                                                    45.0), 72.0)
    for clip in (quiet, traffic):
        _, events = run(clip, analyser=Analyser(SR, music=MusicSettings(min_seconds=20.0)))
        assert "music" not in kinds_of(events)
