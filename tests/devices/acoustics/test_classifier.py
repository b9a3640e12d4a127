"""Pluggable classifier: a tiny ONNX audio model through OpenCV DNN, and its episodes."""

from pathlib import Path

import numpy as np
import pytest

from devices.acoustics.classifier import OnnxClassifier
from devices.acoustics.detectors import Analyser

SR = 16000
T0 = 1_768_604_400.0


def tiny_audio_model(path: Path, *, classes: int = 2, length: int = SR) -> Path:
    """A real (if silly) audio network: the mean magnitude of the window, through a linear
    layer and a sigmoid. Class 0 ("bruit") scores high on loud audio, class 1 ("calme") on
    quiet audio. Input [1, length], output [1, classes]."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weights = np.array([[40.0, -40.0, 0.0][:classes]], np.float32)
    bias = np.array([[-2.0, 2.0, 0.0][:classes]], np.float32)
    nodes = [
        helper.make_node("Abs", ["audio"], ["magnitude"]),
        helper.make_node("ReduceMean", ["magnitude"], ["mean"], axes=[1], keepdims=1),
        helper.make_node("MatMul", ["mean", "weights"], ["linear"]),
        helper.make_node("Add", ["linear", "bias"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny-audio",
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, length])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, classes])],
        initializer=[numpy_helper.from_array(weights, "weights"),
                     numpy_helper.from_array(bias, "bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def noise(seconds: float, amplitude: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, int(seconds * SR)) * amplitude).astype(np.float32)


def test_an_onnx_audio_model_is_run_through_opencv_dnn(tmp_path):
    classifier = OnnxClassifier(tiny_audio_model(tmp_path / "tiny.onnx"), ("bruit", "calme"))

    quiet = classifier.scores(noise(1.0, 0.001), SR)
    loud = classifier.scores(noise(1.0, 0.3), SR)

    assert set(quiet) == {"bruit", "calme"}
    assert quiet["bruit"] < 0.2 < 0.8 < quiet["calme"]
    assert loud["bruit"] > 0.9 and loud["calme"] < 0.1


def test_a_short_window_is_padded_with_silence(tmp_path):
    classifier = OnnxClassifier(tiny_audio_model(tmp_path / "tiny.onnx"), ("bruit", "calme"))

    half = classifier.scores(noise(0.5, 0.3), SR)
    full = classifier.scores(noise(1.0, 0.3), SR)

    assert half["bruit"] < full["bruit"]


def test_the_analyser_reports_one_event_per_episode_of_a_label(tmp_path):
    classifier = OnnxClassifier(tiny_audio_model(tmp_path / "tiny.onnx"), ("bruit", "calme"),
                                threshold=0.6)
    analyser = Analyser(SR, kinds=(), classifier=classifier)
    # 4 s of quiet, 3 s of loud noise, 4 s of quiet: "calme" twice, "bruit" once.
    samples = np.concatenate((noise(4.0, 0.001, 1), noise(3.0, 0.3, 2), noise(4.0, 0.001, 3)))
    events = []
    for start in range(0, len(samples), 4000):
        events += analyser.feed(T0 + start / SR, samples[start:start + 4000])[1]
    events += analyser.flush()[1]

    loud = [e for e in events if e.kind == "bruit"]
    assert len(loud) == 1
    assert loud[0].start == pytest.approx(T0 + 4.0, abs=0.6)
    assert loud[0].end == pytest.approx(T0 + 7.0, abs=1.1)
    assert 0.9 < loud[0].confidence <= 1.0
    assert loud[0].laeq_db > 100  # 0.3 full scale, uniform: about -15 dBFS A-weighted
    assert [e.kind for e in events].count("calme") == 2


def test_a_model_with_the_wrong_number_of_outputs_is_refused(tmp_path):
    path = tiny_audio_model(tmp_path / "tiny.onnx", classes=2)

    with pytest.raises(ValueError, match="2 score\\(s\\) pour 3 classe"):
        OnnxClassifier(path, ("bruit", "calme", "cri"))


def test_an_unreadable_model_file_is_reported_in_french(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"this is not a protobuf")

    with pytest.raises(ValueError, match="Modèle audio illisible"):
        OnnxClassifier(path, ("bruit",))


def test_a_missing_model_file_is_reported_in_french(tmp_path):
    with pytest.raises(ValueError, match="Modèle audio illisible : .*introuvable"):
        OnnxClassifier(tmp_path / "absent.onnx", ("bruit",))


def test_a_model_needs_labels(tmp_path):
    with pytest.raises(ValueError, match="au moins une classe"):
        OnnxClassifier(tiny_audio_model(tmp_path / "tiny.onnx"), ())
