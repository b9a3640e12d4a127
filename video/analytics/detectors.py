"""Object detectors: what is in a frame, as labelled boxes in the frame's pixels.

A detector receives the frame and, optionally, the areas where something moves (``regions``, from
``foreground_regions``); it may restrict its work to them. ``regions=None`` means the whole frame;
an empty list means nothing moves, hence nothing to detect.
"""

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .types import Box, Detection


class Detector(Protocol):
    def detect(self, frame_bgr: np.ndarray,
               regions: list[Box] | None = None) -> list[Detection]: ...


def foreground_regions(foreground_mask: np.ndarray, min_area: int, *,
                       merge_distance: int = 12) -> list[Box]:
    """Bounding boxes of the foreground blobs of at least ``min_area`` pixels.

    Blobs closer than ``merge_distance`` pixels are merged, so a person cut in two by a pole (or
    a bag beside its owner) stays one region.
    """
    # Outer contours, not connected components: the same blobs at a thirtieth of the cost.
    contours, _ = cv2.findContours(foreground_mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if cv2.countNonZero(foreground_mask[y:y + h, x:x + w]) >= min_area:
            boxes.append(Box(x, y, w, h))
    return merge_boxes(boxes, merge_distance)


def merge_boxes(boxes: list[Box], distance: int) -> list[Box]:
    """Merge boxes that overlap or lie within ``distance`` pixels of each other, until stable."""
    boxes = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _near(boxes[i], boxes[j], distance):
                    boxes[i] = _union(boxes[i], boxes[j])
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(boxes, key=lambda box: (box.y, box.x))


def _near(a: Box, b: Box, distance: int) -> bool:
    return (a.x - distance <= b.x + b.w and b.x - distance <= a.x + a.w
            and a.y - distance <= b.y + b.h and b.y - distance <= a.y + a.h)


def _union(a: Box, b: Box) -> Box:
    x1, y1 = min(a.x, b.x), min(a.y, b.y)
    x2, y2 = max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h)
    return Box(x1, y1, x2 - x1, y2 - y1)


def non_maximum_suppression(detections: list[Detection], threshold: float) -> list[Detection]:
    """Keep the best of overlapping detections of the same label (IoU above ``threshold``)."""
    kept = []
    for label in sorted({d.label for d in detections}):
        group = [d for d in detections if d.label == label]
        rects = [[d.box.x, d.box.y, d.box.w, d.box.h] for d in group]
        scores = [float(d.score) for d in group]
        indices = cv2.dnn.NMSBoxes(rects, scores, 0.0, threshold)
        kept.extend(group[int(i)] for i in np.array(indices).reshape(-1))
    return sorted(kept, key=lambda d: -d.score)


class MotionBlobDetector:
    """Each moving region is an object: the cheapest detector, for rules on blobs alone."""

    def __init__(self, *, label: str = "object", min_area: int = 0):
        self.label = label
        self.min_area = min_area

    def detect(self, frame_bgr: np.ndarray, regions: list[Box] | None = None) -> list[Detection]:
        return [Detection(box, 1.0, self.label) for box in regions or ()
                if box.area >= self.min_area]


# OpenCV's own grouping of HOG windows over a whole frame (its default): without it, a search of
# every size over the campus clip's labelled frames found 140 of 150 people but 56 boxes on no
# one; with it 116 and 10.
WHOLE_FRAME_GROUPING = 2


class HogPersonDetector:
    """OpenCV's HOG + linear SVM pedestrian detector (Dalal and Triggs), no model file needed.

    Its window is 64x128 pixels, for a person about 96 pixels tall; people down to
    ``min_height`` pixels (box height) are found by enlarging the image. With ``regions`` only
    padded crops around them are searched, each scaled so that a window is ``1 / fill`` of its
    moving blob's height (enlarged up to ``max_upscale``, shrunk down to ``min_scale``), and
    searched over ``levels`` sizes ``scale`` apart only (people from about three quarters of
    the blob's height to its whole height): this is what keeps it affordable. A blob is a
    little taller than the person in it (motion blur, shadow, the coarse motion mask), hence
    ``fill`` above 1. In crops, raw windows are not grouped by OpenCV (``group_threshold=0``: its
    grouping drops a small person hit by fewer than three windows) but kept by non-maximum
    suppression. Scores are the SVM margin passed through a logistic function (0.5 at the
    decision boundary).
    """

    window = (64, 128)

    def __init__(self, win_stride=(8, 8), scale: float = 1.1, hit_threshold: float = 0.0,
                 min_height: int = 40, nms_threshold: float = 0.4, max_upscale: float = 3.0,
                 min_scale: float = 0.5, fill: float = 1.1, levels: int = 4,
                 group_threshold: int = 0):
        if not 0.5 <= fill <= 2:
            raise ValueError("Le remplissage de la fenêtre HOG va de 0,5 à 2.")
        if not 1 <= levels <= 64:
            raise ValueError("Le nombre d'échelles HOG va de 1 à 64.")
        self.win_stride = tuple(win_stride)
        self.scale = scale
        self.hit_threshold = hit_threshold
        self.min_height = min_height
        self.nms_threshold = nms_threshold
        self.max_upscale = max_upscale
        self.min_scale = min_scale
        self.fill = fill
        self.levels = int(levels)
        self.group_threshold = int(group_threshold)
        self._hog = cv2.HOGDescriptor()  # the whole frame: every size down to the window's
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        # Crops: the same detector over ``levels`` sizes only.
        self._hog_crop = cv2.HOGDescriptor(self.window, (16, 16), (8, 8), (8, 8), 9, 1, -1.0,
                                           cv2.HOGDescriptor_L2Hys, 0.2, True, self.levels)
        self._hog_crop.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, frame_bgr: np.ndarray, regions: list[Box] | None = None) -> list[Detection]:
        height, width = frame_bgr.shape[:2]
        largest = self.window[1] / self.min_height
        if regions is None:
            searches = [(Box(0, 0, width, height), largest)]
        else:
            searches = self._searches(regions, width, height)
        detections = []
        for crop, factor in searches:
            if crop.w <= 0 or crop.h <= 0:
                continue
            if regions is None:
                # The whole frame, every size: OpenCV's grouping keeps its false hits down.
                hog, group = self._hog, WHOLE_FRAME_GROUPING
            else:
                hog, group = self._hog_crop, self.group_threshold
            detections.extend(self._detect_in(frame_bgr, crop, min(factor, self.max_upscale),
                                              hog, group))
        return non_maximum_suppression(detections, self.nms_threshold)

    def _searches(self, regions: list[Box], width: int, height: int) -> list[tuple[Box, float]]:
        """A padded crop around each region, each searched at its own scale.

        A moving blob is about a person's height; the crop is scaled so that the window is
        ``1 / fill`` of the blob's height, HOG's pyramid then shrinks it over ``levels`` sizes
        (larger people). Crops are not merged: two regions side by side may be a near person
        and a far one, and one shared scale would lose the smaller.
        """
        largest = self.window[1] / self.min_height
        searches = []
        for region in regions:
            factor = self.window[1] * self.fill / max(1, region.h)
            factor = min(largest, max(self.min_scale, factor))
            searches.append((self._crop_around(region, width, height), factor))
        return searches

    def _crop_around(self, region: Box, width: int, height: int) -> Box:
        """The region padded so a whole person around the moving part fits the window."""
        pad_x = max(16, region.w // 2)
        pad_y = max(16, region.h // 4)
        min_w = self.window[0] * self.min_height // self.window[1]
        x1 = max(0, region.x - pad_x - max(0, min_w - region.w) // 2)
        x2 = min(width, region.x + region.w + pad_x + max(0, min_w - region.w) // 2)
        y1 = max(0, region.y - pad_y - max(0, self.min_height - region.h) // 2)
        y2 = min(height, region.y + region.h + pad_y + max(0, self.min_height - region.h) // 2)
        return Box(x1, y1, x2 - x1, y2 - y1)

    def _detect_in(self, frame: np.ndarray, crop: Box, factor: float,
                   hog, group: int) -> list[Detection]:
        image = frame[crop.y:crop.y + crop.h, crop.x:crop.x + crop.w]
        if factor != 1.0:
            image = cv2.resize(image, None, fx=factor, fy=factor,
                               interpolation=cv2.INTER_LINEAR if factor > 1 else cv2.INTER_AREA)
        # Too small for one window: pad with the edge pixels rather than give up.
        pad_w = max(0, self.window[0] - image.shape[1])
        pad_h = max(0, self.window[1] - image.shape[0])
        if pad_w or pad_h:
            image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        rects, weights = hog.detectMultiScale(
            image, hitThreshold=self.hit_threshold, winStride=self.win_stride,
            padding=(8, 8), scale=self.scale, groupThreshold=group)
        detections = []
        for (x, y, w, h), weight in zip(rects, np.ravel(weights)):
            # The window has margins around the person: keep the person (feet at the bottom).
            bx = crop.x + (x + 0.15 * w) / factor
            by = crop.y + (y + 0.08 * h) / factor
            bw, bh = 0.7 * w / factor, 0.84 * h / factor
            box = _clip_box(bx, by, bw, bh, frame.shape[1], frame.shape[0])
            if box is not None:
                detections.append(Detection(box, float(1 / (1 + np.exp(-weight))), "person"))
        return detections


class OnnxDetector:
    """A YOLO-style detector exported to ONNX, run by ONNX Runtime (``runtime="opencv"``: by
    OpenCV's DNN module).

    Input: one image, NCHW float32, RGB scaled to 0..1, of ``input_size`` (width, height); the
    frame is letterboxed into it (aspect kept, grey bars) unless ``letterbox=False`` (stretched).

    Output: ``[1, N, 4 + C]``, one row per candidate: ``cx, cy, w, h`` of the box in input pixels,
    then C class scores in 0..1 (no separate objectness), C being ``len(labels)`` and class i
    named ``labels[i]``. The transposed layout ``[1, 4 + C, N]`` of YOLOv8 exports is accepted too.
    A user-supplied model can so detect weapons, vehicles or anything it was trained on.
    """

    def __init__(self, path, *, input_size=(320, 320), labels: Sequence[str] = ("person",),
                 score_threshold: float = 0.5, nms_threshold: float = 0.45,
                 letterbox: bool = True, runtime: str = "onnxruntime"):
        path = Path(path)
        self._net = OnnxNetwork(path, runtime)
        self.path = path
        self.input_size = tuple(int(v) for v in input_size)
        self.labels = tuple(labels)
        if not self.labels:
            raise ValueError("Le modèle doit avoir au moins une classe.")
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.letterbox = letterbox

    def detect(self, frame_bgr: np.ndarray, regions: list[Box] | None = None) -> list[Detection]:
        if regions is not None and not regions:
            return []
        height, width = frame_bgr.shape[:2]
        image, scale, (offset_x, offset_y) = self._prepare(frame_bgr)
        blob = cv2.dnn.blobFromImage(image, 1 / 255, self.input_size, swapRB=True)
        rows = self._rows(self._net.forward(blob))
        detections = []
        for row in rows:
            scores = row[4:]
            best = int(np.argmax(scores))
            score = float(scores[best])
            if score < self.score_threshold:
                continue
            cx, cy, w, h = (float(v) for v in row[:4])
            box = _clip_box((cx - w / 2 - offset_x) / scale[0], (cy - h / 2 - offset_y) / scale[1],
                            w / scale[0], h / scale[1], width, height)
            if box is not None:
                detections.append(Detection(box, score, self.labels[best]))
        return non_maximum_suppression(detections, self.nms_threshold)

    def _prepare(self, frame: np.ndarray):
        """The network's input image, the scale applied and the letterbox offsets."""
        in_w, in_h = self.input_size
        height, width = frame.shape[:2]
        if not self.letterbox:
            return frame, (in_w / width, in_h / height), (0, 0)
        ratio = min(in_w / width, in_h / height)
        new_w, new_h = round(width * ratio), round(height * ratio)
        resized = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        left, top = (in_w - new_w) // 2, (in_h - new_h) // 2
        padded = cv2.copyMakeBorder(resized, top, in_h - new_h - top, left, in_w - new_w - left,
                                    cv2.BORDER_CONSTANT, value=(114, 114, 114))
        return padded, (ratio, ratio), (left, top)

    def _rows(self, output: np.ndarray) -> np.ndarray:
        columns = 4 + len(self.labels)
        output = np.asarray(output, dtype=np.float32)
        if output.ndim == 3:
            output = output[0]
        if output.ndim != 2 or columns not in output.shape:
            raise ValueError(f"Sortie du modèle inattendue {output.shape} : [1, N, {columns}] "
                             f"attendu pour {len(self.labels)} classe(s).")
        if output.shape[1] != columns:
            output = output.T
        return output


def detector_from_settings(spec: dict) -> Detector:
    """Build a detector from its settings, e.g. ``{"kind": "hog"}``,
    ``{"kind": "yolox", "path": "/models/yolox_nano.onnx"}`` (the recommended person detector)
    or ``{"kind": "onnx", "path": "/models/weapons.onnx", "labels": ["pistolet", "couteau"]}``.

    Other keys are the detector's own parameters.
    """
    options = dict(spec)
    kind = options.pop("kind", "hog")
    if kind == "hog":
        factory = HogPersonDetector
    elif kind == "onnx":
        factory = OnnxDetector
        if not options.get("path"):
            raise ValueError("Chemin du modèle de détection manquant.")
        if not Path(options["path"]).is_file():
            raise ValueError(f"Modèle de détection introuvable : {options['path']}")
        for key in ("input_size", "labels"):
            if key in options:
                options[key] = tuple(options[key])
    elif kind == "yolox":
        from .yolox import YoloxDetector

        factory = YoloxDetector
        if not options.get("path"):
            raise ValueError("Chemin du modèle de détection manquant.")
        if "tiles" in options:
            options["tiles"] = tuple(options["tiles"])
    elif kind == "motion":
        factory = MotionBlobDetector
    else:
        raise ValueError(f"Type de détecteur inconnu : {kind}")
    if "win_stride" in options:
        options["win_stride"] = tuple(options["win_stride"])
    try:
        return factory(**options)
    except TypeError as error:
        raise ValueError(f"Paramètres du détecteur « {kind} » invalides : {error}") from error


def _clip_box(x: float, y: float, w: float, h: float, width: int, height: int) -> Box | None:
    x1, y1 = max(0, round(x)), max(0, round(y))
    x2, y2 = min(width, round(x + w)), min(height, round(y + h))
    if x2 <= x1 or y2 <= y1:
        return None
    return Box(x1, y1, x2 - x1, y2 - y1)


ONNX_RUNTIMES = ("onnxruntime", "opencv")


class OnnxNetwork:
    """An ONNX network, run by ONNX Runtime (the default) or by OpenCV's DNN module.

    ONNX Runtime runs YOLOX-Nano three times faster than OpenCV's DNN module on one core, with
    the same outputs (within 1e-4; ``bench/video_pipeline.py --onnx-runtime``). It runs on one
    thread, as OpenCV does in a worker: a worker analyses one camera per slot, so cores are
    shared between cameras, not within one. The network's declared image height and width are
    freed, so that a fully convolutional network (YOLOX) takes crops and frames of any size, as
    OpenCV's DNN module lets it. An ONNX Runtime session holds no state between passes (and
    may be run from several threads), so a process loads each model file once, whatever the
    number of cameras it analyses: a camera's pipeline, kept from one window to the next, then
    costs no more memory with a model than with HOG. A model file replaced is loaded again.
    """

    def __init__(self, path: Path, runtime: str = "onnxruntime"):
        path = Path(path)
        if runtime not in ONNX_RUNTIMES:
            raise ValueError(f"Moteur d'inférence inconnu : {runtime} "
                             f"({' ou '.join(ONNX_RUNTIMES)}).")
        if not path.is_file():
            raise ValueError(f"Modèle de détection introuvable : {path}")
        self.runtime = runtime
        try:
            if runtime == "opencv":
                self._net = cv2.dnn.readNetFromONNX(str(path))
            else:
                digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
                self._session = _session_for(path.resolve(), digest)
                self._input = self._session.get_inputs()[0].name
        # ONNX Runtime's and protobuf's errors derive from Exception alone.
        except Exception as error:  # noqa: BLE001
            raise ValueError(f"Modèle de détection illisible ({path}) : {error}") from error

    def forward(self, blob: np.ndarray) -> np.ndarray:
        """The first output of the network for ``blob`` (NCHW float32)."""
        if self.runtime == "opencv":
            self._net.setInput(blob)
            return self._net.forward()
        try:
            return self._session.run(None, {self._input: blob})[0]
        except Exception as error:  # noqa: BLE001
            raise ValueError(f"Le modèle de détection n'a pas pu analyser l'image "
                             f"{blob.shape[3]}x{blob.shape[2]} : {error}") from error


@lru_cache(maxsize=8)
def _session_for(path: Path, digest: str):
    """An ONNX Runtime session for the model file at ``path`` whose content has ``digest``:
    one a process for each model, shared by every detector."""
    import onnx
    import onnxruntime

    model = onnx.load(str(path))
    image = model.graph.input[0].type.tensor_type.shape.dim
    if len(image) == 4:
        image[2].dim_param, image[3].dim_param = "height", "width"
        for output in model.graph.output:
            for index, dim in enumerate(output.type.tensor_type.shape.dim):
                if index:
                    dim.dim_param = f"{output.name}_{index}"
        del model.graph.value_info[:]  # shapes inferred for the declared size
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    # Without its memory arena a session holds 14 MB instead of 21 (YOLOX-Nano), as fast.
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3  # errors only, raised as exceptions anyway
    return onnxruntime.InferenceSession(model.SerializeToString(), options,
                                        providers=["CPUExecutionProvider"])
