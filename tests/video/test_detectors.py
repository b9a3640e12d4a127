"""Detectors: HOG on real footage, a tiny ONNX network through OpenCV DNN, moving regions."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from video.analytics.detectors import (
    HogPersonDetector,
    MotionBlobDetector,
    OnnxDetector,
    detector_from_settings,
    foreground_regions,
)
from video.analytics.motion import MotionGate
from video.analytics.source import FrameSource
from video.analytics.types import Box

CAMPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "campus-pedestrians.avi"
needs_campus = pytest.mark.skipif(not CAMPUS.is_file(),
                                  reason=f"real footage absent ({CAMPUS}): see shared/data/README")


# --- moving regions -----------------------------------------------------------------------------

def test_foreground_regions_are_blobs_large_enough_merged_when_close():
    mask = np.zeros((100, 200), np.uint8)
    mask[10:40, 10:20] = 255  # a body...
    mask[42:60, 12:18] = 255  # ...and its legs, 2 px below: one region
    mask[10:30, 150:170] = 255  # someone else, far away
    mask[90:92, 100:102] = 255  # noise, 4 px

    regions = foreground_regions(mask, min_area=20)

    assert regions == [Box(10, 10, 10, 50), Box(150, 10, 20, 20)]


def test_foreground_regions_of_an_empty_mask_are_none():
    assert foreground_regions(np.zeros((50, 50), np.uint8), min_area=1) == []


def test_the_motion_blob_detector_turns_regions_into_objects():
    detector = MotionBlobDetector(label="objet", min_area=50)
    regions = [Box(0, 0, 10, 10), Box(5, 5, 4, 4)]

    detections = detector.detect(np.zeros((20, 20, 3), np.uint8), regions)

    assert [(d.box, d.label, d.score) for d in detections] == [(Box(0, 0, 10, 10), "objet", 1.0)]


# --- HOG ----------------------------------------------------------------------------------------

def campus_frames(count: int):
    return [frame for _, frame in FrameSource(str(CAMPUS), target_fps=10, size=None).frames(count)]


@needs_campus
def test_hog_finds_walkers_on_real_footage():
    frame = campus_frames(101)[100]  # t = 10 s: five people cross the square

    detections = HogPersonDetector().detect(frame)

    assert len(detections) >= 1
    for detection in detections:
        assert detection.label == "person"
        assert 0.5 <= detection.score <= 1
        # On the paths in the middle of the image, person-shaped (taller than wide).
        assert 60 <= detection.box.y + detection.box.h <= 260
        assert detection.box.h > detection.box.w


@needs_campus
def test_hog_restricted_to_moving_regions_still_finds_them():
    gate = MotionGate()
    for frame in campus_frames(101):
        foreground, _, moving = gate.apply(frame)
    regions = foreground_regions(foreground, min_area=50)

    detections = HogPersonDetector().detect(frame, regions)

    assert moving and regions
    assert len(detections) >= 2
    # Every person found stands on a moving region.
    for detection in detections:
        assert any(detection.box.iou(region) > 0 for region in regions)


MODEL = CAMPUS.parents[1] / "models" / "yolox_nano.onnx"


@needs_campus
@pytest.mark.skipif(not MODEL.is_file(), reason=f"YOLOX model absent: {MODEL}")
def test_yolox_searches_crops_around_moving_regions_and_finds_the_same_people():
    from video.analytics.yolox import YoloxDetector

    gate = MotionGate()
    for frame in campus_frames(101):
        foreground, _, moving = gate.apply(frame)
    regions = foreground_regions(foreground, min_area=64)
    whole, cropped = YoloxDetector(MODEL, crop=False), YoloxDetector(MODEL)

    everyone = whole.detect(frame, regions)
    found = cropped.detect(frame, regions)

    assert moving and regions and whole.passes == 1
    # Several small passes, together far smaller than the frame's.
    assert cropped.passes >= 2 and cropped.pixels < 0.5 * whole.pixels
    moving_people = [d for d in everyone if any(d.box.iou(r) > 0 for r in regions)]
    assert len(moving_people) >= 3
    for person in moving_people:
        assert any(person.box.iou(d.box) >= 0.5 for d in found), person


@needs_campus
@pytest.mark.skipif(not MODEL.is_file(), reason=f"YOLOX model absent: {MODEL}")
def test_yolox_finds_the_same_people_in_onnx_runtime_as_in_opencv_dnn():
    from video.analytics.yolox import YoloxDetector

    frames = campus_frames(101)
    gate = MotionGate()
    for frame in frames:
        foreground, _, _ = gate.apply(frame)
    regions = foreground_regions(foreground, min_area=64)
    fast, opencv = YoloxDetector(MODEL), YoloxDetector(MODEL, runtime="opencv")
    assert fast._net.runtime == "onnxruntime" and opencv._net.runtime == "opencv"

    for image, searched in ((frames[0], None), (frame, regions)):  # whole frame, then crops
        found, expected = fast.detect(image, searched), opencv.detect(image, searched)

        assert len(expected) >= 3
        assert [d.box for d in found] == [d.box for d in expected]
        assert [d.score for d in found] == pytest.approx([d.score for d in expected], abs=1e-3)
    # Crops of sizes other than the 416x416 the model declares.
    assert fast.passes >= 3


def test_yolox_crops_are_whole_strides_merged_when_close_and_the_frame_when_large(tmp_path):
    from video.analytics.yolox import YoloxDetector

    crops = YoloxDetector._crops  # planning only: no model needed
    planner = YoloxDetector.__new__(YoloxDetector)
    planner.crop_margin, planner.min_crop = 0.25, 96
    scale = 416 / 640
    far_apart = [Box(20, 40, 20, 50), Box(500, 250, 20, 50)]
    plan = crops(planner, far_apart, 640, 360, scale)
    assert len(plan) == 2
    for crop, region in zip(plan, far_apart):
        assert round(crop.w * scale) % 32 == 0 and round(crop.h * scale) % 32 == 0
        assert crop.x <= region.x and crop.x + crop.w >= region.x + region.w
        assert crop.y <= region.y and crop.y + crop.h >= region.y + region.h
    side_by_side = [Box(300, 100, 20, 50), Box(330, 100, 20, 50)]
    assert len(crops(planner, side_by_side, 640, 360, scale)) == 1
    everywhere = [Box(x, y, 60, 100) for x in range(0, 640, 120) for y in (0, 180)]
    assert crops(planner, everywhere, 640, 360, scale) is None


def test_hog_finds_nobody_on_an_empty_frame_and_does_nothing_without_regions():
    frame = np.full((240, 320, 3), 127, np.uint8)
    detector = HogPersonDetector()

    assert detector.detect(frame) == []
    assert detector.detect(frame, []) == []


# --- ONNX ---------------------------------------------------------------------------------------

def tiny_yolo(path: Path, *, box=(160, 160, 40, 80), transposed=False) -> Path:
    """A real (if silly) network: one candidate box; the 'person' score is the mean brightness
    of the input image, the second class's score its complement. Output [1, 1, 6]."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    initialisers = [
        numpy_helper.from_array(np.array([[box]], np.float32), "box"),
        numpy_helper.from_array(np.array([1.0], np.float32), "one"),
        numpy_helper.from_array(np.array([1, 1, 1], np.int64), "shape"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["mean", "shape"], ["bright"]),
        helper.make_node("Sub", ["one", "bright"], ["dark"]),
        helper.make_node("Concat", ["box", "bright", "dark"],
                         ["rows" if transposed else "output"], axis=2),
    ]
    shape = [1, 1, 6]
    if transposed:
        nodes.append(helper.make_node("Transpose", ["rows"], ["output"], perm=[0, 2, 1]))
        shape = [1, 6, 1]
    graph = helper.make_graph(
        nodes, "tiny-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
        initializer=initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("runtime", ["onnxruntime", "opencv"])
@pytest.mark.parametrize("transposed", [False, True])
def test_an_onnx_model_is_run_by_onnx_runtime_or_opencv_dnn(tmp_path, transposed, runtime):
    path = tiny_yolo(tmp_path / "tiny.onnx", transposed=transposed)
    detector = OnnxDetector(path, input_size=(320, 320), labels=("person", "arme"),
                            letterbox=False, runtime=runtime)
    white = np.full((640, 640, 3), 255, np.uint8)

    detections = detector.detect(white)

    # (cx, cy, w, h) = (160, 160, 40, 80) in a 320 input, for a 640 frame: twice as large.
    assert [(d.box, d.label) for d in detections] == [(Box(280, 240, 80, 160), "person")]
    assert detections[0].score == pytest.approx(1.0, abs=1e-4)
    black = np.zeros((640, 640, 3), np.uint8)
    assert [d.label for d in detector.detect(black)] == ["arme"]


def test_onnx_scores_below_the_threshold_are_dropped(tmp_path):
    detector = OnnxDetector(tiny_yolo(tmp_path / "tiny.onnx"), labels=("person", "arme"),
                            score_threshold=0.6, letterbox=False)
    grey = np.full((320, 320, 3), 128, np.uint8)  # both scores are near 0.5

    assert detector.detect(grey) == []
    assert detector.detect(grey, regions=[]) == []


def test_onnx_boxes_are_mapped_back_through_the_letterbox(tmp_path):
    detector = OnnxDetector(tiny_yolo(tmp_path / "tiny.onnx"), labels=("person", "arme"))
    # A 640x320 frame fits the 320 input as 320x160 with 80-pixel bars above and below: the
    # box's top, 120 in the input, is 40 in the picture, 80 in the frame.
    white = np.full((320, 640, 3), 255, np.uint8)

    detections = detector.detect(white)

    assert [(d.box, d.label) for d in detections] == [(Box(280, 80, 80, 160), "person")]
    bars = 114 / 255  # the grey bars count in the network's mean
    assert detections[0].score == pytest.approx(0.5 + 0.5 * bars, abs=0.01)


def test_a_model_with_the_wrong_number_of_classes_is_reported(tmp_path):
    detector = OnnxDetector(tiny_yolo(tmp_path / "tiny.onnx"), labels=("person",))

    with pytest.raises(ValueError, match="Sortie du modèle inattendue"):
        detector.detect(np.zeros((320, 320, 3), np.uint8))


# --- settings -----------------------------------------------------------------------------------

def test_detectors_are_built_from_settings(tmp_path):
    path = tiny_yolo(tmp_path / "armes.onnx")

    hog = detector_from_settings({"kind": "hog", "min_height": 96})
    onnx_detector = detector_from_settings(
        {"kind": "onnx", "path": str(path), "labels": ["pistolet", "couteau"],
         "input_size": [320, 320], "score_threshold": 0.3})
    blobs = detector_from_settings({"kind": "motion"})

    assert isinstance(hog, HogPersonDetector) and hog.min_height == 96
    assert isinstance(onnx_detector, OnnxDetector)
    assert onnx_detector.labels == ("pistolet", "couteau")
    assert onnx_detector.score_threshold == 0.3
    assert onnx_detector._net.runtime == "onnxruntime"
    assert detector_from_settings({"kind": "onnx", "path": str(path), "runtime": "opencv"}
                                  )._net.runtime == "opencv"
    assert isinstance(blobs, MotionBlobDetector)


def test_a_missing_model_file_is_refused_in_french(tmp_path):
    absent = tmp_path / "absent.onnx"

    with pytest.raises(ValueError, match="Modèle de détection introuvable"):
        detector_from_settings({"kind": "onnx", "path": str(absent), "labels": ["arme"]})
    with pytest.raises(ValueError, match="Modèle de détection introuvable"):
        OnnxDetector(absent)


def test_bad_settings_are_refused_in_french():
    with pytest.raises(ValueError, match="Type de détecteur inconnu"):
        detector_from_settings({"kind": "yolo9000"})
    with pytest.raises(ValueError, match="Chemin du modèle de détection manquant"):
        detector_from_settings({"kind": "onnx"})
    with pytest.raises(ValueError, match="invalides"):
        detector_from_settings({"kind": "hog", "colour": "rouge"})
    with pytest.raises(ValueError, match="remplissage de la fenêtre HOG"):
        detector_from_settings({"kind": "hog", "fill": 3})
    with pytest.raises(ValueError, match="nombre d'échelles HOG"):
        detector_from_settings({"kind": "hog", "levels": 0})


@pytest.mark.parametrize("runtime", ["onnxruntime", "opencv"])
def test_an_unreadable_model_is_refused_in_french(tmp_path, runtime):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a network")

    with pytest.raises(ValueError, match="illisible"):
        OnnxDetector(path, runtime=runtime)


def test_an_unknown_runtime_is_refused_in_french(tmp_path):
    path = tiny_yolo(tmp_path / "tiny.onnx")

    with pytest.raises(ValueError, match="Moteur d'inférence inconnu"):
        detector_from_settings({"kind": "onnx", "path": str(path), "runtime": "tensorrt"})


def test_cameras_share_one_session_of_a_model_file_until_it_is_replaced(tmp_path):
    path = tiny_yolo(tmp_path / "armes.onnx")
    first, second = (OnnxDetector(path, labels=("person", "arme")) for _ in range(2))
    assert first._net._session is second._net._session
    assert OnnxDetector(path, runtime="opencv")._net.runtime == "opencv"

    tiny_yolo(path, box=(100, 100, 20, 40))  # a new model under the same name
    replaced = OnnxDetector(path, labels=("person", "arme"), letterbox=False)

    assert replaced._net._session is not first._net._session
    white = np.full((320, 320, 3), 255, np.uint8)
    assert [d.box for d in replaced.detect(white)] == [Box(90, 80, 20, 40)]


def test_a_model_that_cannot_take_the_image_is_reported_in_french(tmp_path):
    # The test network's box is a constant 1x1x4: a 2-image batch cannot be concatenated to it.
    detector = OnnxDetector(tiny_yolo(tmp_path / "tiny.onnx"), labels=("person", "arme"))

    with pytest.raises(ValueError, match="n'a pas pu analyser l'image"):
        detector._net.forward(np.zeros((2, 3, 320, 320), np.float32))


def test_opencv_can_read_the_model_the_test_builds(tmp_path):
    net = cv2.dnn.readNetFromONNX(str(tiny_yolo(tmp_path / "tiny.onnx")))
    assert not net.empty()
