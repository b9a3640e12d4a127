"""The analyser as the workers use it: calibrated levels, the same result however the stream is
cut, impulses timed to the millisecond, bounded memory, and a user-supplied ONNX model."""

import numpy as np
import pytest

from devices.acoustics import synth
from devices.acoustics.classifier import OnnxClassifier
from devices.acoustics.detectors import Analyser, MusicSettings

RATE = 16000
T0 = 1_795_000_000.0


def feed(analyser, samples, block=4000, t0=T0):
    levels, events = [], []
    for start in range(0, len(samples), block):
        out = analyser.feed(t0 + start / RATE, samples[start:start + block])
        levels += out[0]
        events += out[1]
    out = analyser.flush()
    return levels + out[0], events + out[1]


def tone(freq, seconds, rms):
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * freq * t) * rms * np.sqrt(2)).astype(np.float32)


def test_a_1khz_tone_reads_its_level_and_100hz_is_a_weighted_down():
    levels, _ = feed(Analyser(RATE), tone(1000, 4, 10 ** ((74 - 120) / 20)))
    assert [round(level.laeq) for level in levels[1:]] == [74, 74, 74]
    assert max(levels[2].bands, key=levels[2].bands.get) == 1000
    assert levels[2].lafmax == pytest.approx(74, abs=0.6)
    low, _ = feed(Analyser(RATE), tone(100, 4, 10 ** ((74 - 120) / 20)))
    assert low[2].laeq == pytest.approx(74 - 19.1, abs=0.6)  # A-weighting at 100 Hz


def street(seed):
    rng = np.random.default_rng(seed)
    track = synth.scale_to_level(synth.background(rng, "traffic", 12, RATE), 58.0, RATE)
    return synth.mix(synth.gunshot(rng, RATE, kind="pistol"), track, 20.0, offset=5 * RATE + 123)


def test_the_result_does_not_depend_on_how_the_stream_is_cut():
    """Blocks of 10 ms to 1 s (the sources give 0.25 s; an edge sensor's frames, up to 2 s)."""
    samples = street(31)
    whole = feed(Analyser(RATE), samples, block=RATE)
    small = feed(Analyser(RATE), samples, block=160)
    rng = np.random.default_rng(0)
    cuts = np.cumsum(rng.integers(1, 9000, 200))
    cuts = [0, *cuts[cuts < len(samples)].tolist(), len(samples)]
    analyser, levels, events = Analyser(RATE), [], []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        out = analyser.feed(T0 + a / RATE, samples[a:b])
        levels, events = levels + out[0], events + out[1]
    out = analyser.flush()
    odd = (levels + out[0], events + out[1])
    for other in (small, odd):
        assert [e.kind for e in other[1]] == [e.kind for e in whole[1]] == ["detonation"]
        assert other[1][0].start == pytest.approx(whole[1][0].start, abs=0.001)
        assert np.allclose([lv.laeq for lv in other[0]], [lv.laeq for lv in whole[0]], atol=0.01)


def test_an_impulse_is_timed_to_the_millisecond():
    _, events = feed(Analyser(RATE), street(32))
    [shot] = events
    assert shot.kind == "detonation"
    assert shot.start - T0 == pytest.approx(5 + 123 / RATE, abs=0.001)


def test_a_gap_in_the_stream_starts_afresh_instead_of_mixing_audio():
    analyser = Analyser(RATE)
    samples = tone(1000, 2, 0.01)
    analyser.feed(T0, samples)
    levels, _ = analyser.feed(T0 + 10, samples)  # 8 s missing
    levels += analyser.feed(T0 + 12, samples)[0]
    assert [round(level.start - T0) for level in levels] == [10, 11, 12, 13]


def test_memory_stays_bounded_over_a_long_stream():
    import tracemalloc

    rng = np.random.default_rng(3)
    minute = synth.scale_to_level(synth.background(rng, "babble", 60, RATE), 60.0, RATE)
    analyser = Analyser(RATE)
    feed_only = lambda start: [analyser.feed(start + s / RATE, minute[s:s + 4000])  # noqa: E731
                               for s in range(0, len(minute), 4000)]
    feed_only(T0)
    tracemalloc.start()
    feed_only(T0 + 60)
    after_two = tracemalloc.get_traced_memory()[0]
    for minute_number in range(2, 6):
        feed_only(T0 + 60 * minute_number)
    after_six = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after_six - after_two < 256 * 1024


def test_music_counts_only_in_the_night_window():
    rng = np.random.default_rng(9)
    track = synth.scale_to_level(synth.background(rng, "babble", 80, RATE), 55.0, RATE)
    track = synth.mix(synth.music(rng, 76, RATE), track, 15.0, offset=2 * RATE)
    _, at_night = feed(Analyser(RATE, music=MusicSettings(min_seconds=60)), track)
    _, by_day = feed(Analyser(RATE, music=MusicSettings(min_seconds=60,
                                                          active=lambda t: False)), track)
    assert [e.kind for e in at_night] == ["music"]
    assert by_day == []


def loud_model(path, labels=2):
    """A tiny model: score = sigmoid(w · mean |x| + b), per label; the first label fires on a
    loud window, the others never."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weights = np.array([[400.0] + [0.0] * (labels - 1)], np.float32)
    bias = np.array([-4.0] + [-10.0] * (labels - 1), np.float32)
    graph = helper.make_graph(
        [helper.make_node("Abs", ["audio"], ["magnitude"]),
         helper.make_node("ReduceMean", ["magnitude"], ["mean"], axes=[1], keepdims=1),
         helper.make_node("MatMul", ["mean", "w"], ["scaled"]),
         helper.make_node("Add", ["scaled", "b"], ["logits"]),
         helper.make_node("Sigmoid", ["logits"], ["scores"])],
        "loudness",
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, RATE])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, labels])],
        initializer=[numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_a_user_supplied_onnx_model_adds_its_labels(tmp_path):
    classifier = OnnxClassifier(loud_model(tmp_path / "m.onnx"), ["sirene", "chien"])
    quiet = tone(1000, 3, 0.001)
    loud = tone(1000, 2, 0.1)
    samples = np.concatenate([quiet, loud, quiet])
    _, events = feed(Analyser(RATE, kinds=(), classifier=classifier), samples)
    assert [e.kind for e in events] == ["sirene"]
    assert events[0].confidence >= 0.5 and 2.0 <= events[0].start - T0 <= 3.5


def test_an_unsuitable_model_is_refused_in_french(tmp_path):
    with pytest.raises(ValueError, match="Modèle audio inadapté"):
        OnnxClassifier(loud_model(tmp_path / "m.onnx"), ["un", "deux", "trois"])
    (tmp_path / "faux.onnx").write_bytes(b"pas un modele")
    with pytest.raises(ValueError, match="Modèle audio illisible"):
        OnnxClassifier(tmp_path / "faux.onnx", ["un"])
    with pytest.raises(ValueError, match="Type"):
        Analyser(RATE, kinds=("aboiement",))


def test_music_goes_on_across_short_breaks_in_the_stream():
    """Each analysis window reopens the stream: a second lost between windows must not restart
    the count of minutes of music."""
    rng = np.random.default_rng(9)
    track = synth.scale_to_level(synth.background(rng, "babble", 80, RATE), 55.0, RATE)
    track = synth.mix(synth.music(rng, 76, RATE), track, 15.0, offset=2 * RATE)
    analyser = Analyser(RATE, music=MusicSettings(min_seconds=60))
    events = []
    for window in range(4):  # 20 s windows, the first second of each lost
        start = window * 20 * RATE + (RATE if window else 0)
        piece = track[start:(window + 1) * 20 * RATE]
        for at in range(0, len(piece), 4000):
            events += analyser.feed(T0 + (start + at) / RATE, piece[at:at + 4000])[1]
    events += analyser.flush()[1]
    assert [e.kind for e in events] == ["music"]
    assert events[0].start - T0 < 10
