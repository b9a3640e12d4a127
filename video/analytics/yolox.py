"""YOLOX person detection (Megvii's YOLOX, COCO classes) in OpenCV's DNN module.

The recommended detector: YOLOX-Nano (3.6 MB, Apache-2.0) finds walkers of 30 pixels and more
that HOG misses, at a few tens of milliseconds per pass on one core. Its network is fully
convolutional, so the input need not be the 416x416 square it was exported with: the frame is
resized to ``input_width`` pixels wide and the height that keeps its aspect (both multiples of
32), so no time is spent on letterbox bars. Where people are small, ``tiles`` splits the frame
into overlapping tiles, each run at the same input size (a 2x2 grid doubles the people's size
for the network, at four times the cost).

Output rows (per grid cell of the strides 8, 16 and 32): ``cx, cy`` offsets within the cell,
``log w, log h`` in strides, objectness, 80 class scores; score = objectness x class score.
"""

from pathlib import Path

import cv2
import numpy as np

from .detectors import non_maximum_suppression
from .types import Box, Detection

STRIDES = (8, 16, 32)
COCO_PERSON = 0


class YoloxDetector:
    """People (COCO class 0) found by a YOLOX ONNX model; other classes are ignored.

    ``regions`` from the motion gate are not used to crop: the network sees the whole frame (or
    each tile) in one pass, so a person standing still is found as well as a walker; an empty
    list (nothing moves) skips the pass.
    """

    def __init__(self, path, *, input_width: int = 416, tiles: tuple[int, int] = (1, 1),
                 overlap: float = 0.15, score_threshold: float = 0.35,
                 nms_threshold: float = 0.45, label: str = "person"):
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"Modèle de détection introuvable : {path}")
        try:
            self._net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as error:
            raise ValueError(f"Modèle de détection illisible ({path}) : {error}") from error
        if input_width < 64 or input_width % 32:
            raise ValueError("La largeur d'entrée du modèle doit être un multiple de 32 (≥ 64).")
        tiles = tuple(int(v) for v in tiles)
        if len(tiles) != 2 or min(tiles) < 1 or max(tiles) > 4:
            raise ValueError("Le découpage en tuiles va de 1x1 à 4x4.")
        if not 0 <= overlap < 0.5:
            raise ValueError("Le recouvrement des tuiles doit être compris entre 0 et 0,5.")
        self.path = path
        self.input_width = int(input_width)
        self.tiles = tiles
        self.overlap = float(overlap)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.label = label
        self._grids: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def detect(self, frame_bgr: np.ndarray, regions: list[Box] | None = None) -> list[Detection]:
        if regions is not None and not regions:
            return []
        height, width = frame_bgr.shape[:2]
        detections = []
        for x, y, w, h in self._tile_boxes(width, height):
            detections.extend(self._detect_in(frame_bgr, x, y, w, h))
        return non_maximum_suppression(detections, self.nms_threshold)

    def _tile_boxes(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        columns, rows = self.tiles
        tile_w = round(width / (columns - (columns - 1) * self.overlap))
        tile_h = round(height / (rows - (rows - 1) * self.overlap))
        xs = np.linspace(0, width - tile_w, columns).round().astype(int) if columns > 1 else [0]
        ys = np.linspace(0, height - tile_h, rows).round().astype(int) if rows > 1 else [0]
        return [(int(x), int(y), min(tile_w, width), min(tile_h, height)) for y in ys for x in xs]

    def _detect_in(self, frame, x0: int, y0: int, w: int, h: int) -> list[Detection]:
        in_w = self.input_width
        in_h = max(32, round(in_w * h / w / 32) * 32)
        tile = frame[y0:y0 + h, x0:x0 + w]
        # BGR, 0..255, no mean or scaling: what YOLOX was trained on.
        blob = cv2.dnn.blobFromImage(tile, 1.0, (in_w, in_h), swapRB=False)
        self._net.setInput(blob)
        rows = np.asarray(self._net.forward(), np.float32).reshape(-1, 85)
        cells, strides = self._grid(in_w, in_h)
        if len(rows) != len(cells):
            raise ValueError(f"Sortie du modèle inattendue : {len(rows)} lignes pour une entrée "
                             f"{in_w}x{in_h} ({len(cells)} attendues).")
        scores = rows[:, 4] * rows[:, 5 + COCO_PERSON]
        keep = scores >= self.score_threshold
        if not keep.any():
            return []
        rows, cells, strides, scores = rows[keep], cells[keep], strides[keep], scores[keep]
        centres = (rows[:, :2] + cells) * strides
        sizes = np.exp(np.minimum(rows[:, 2:4], 10.0)) * strides
        fx, fy = w / in_w, h / in_h
        detections = []
        for (cx, cy), (bw, bh), score in zip(centres, sizes, scores):
            box = _clip(x0 + (cx - bw / 2) * fx, y0 + (cy - bh / 2) * fy, bw * fx, bh * fy,
                        frame.shape[1], frame.shape[0])
            if box is not None:
                detections.append(Detection(box, float(score), self.label))
        return detections

    def _grid(self, in_w: int, in_h: int) -> tuple[np.ndarray, np.ndarray]:
        key = (in_w, in_h)
        if key not in self._grids:
            cells, strides = [], []
            for stride in STRIDES:
                gx, gy = np.meshgrid(np.arange(in_w // stride), np.arange(in_h // stride))
                cells.append(np.stack([gx.ravel(), gy.ravel()], axis=1))
                strides.append(np.full((gx.size, 1), stride))
            self._grids[key] = (np.concatenate(cells).astype(np.float32),
                                np.concatenate(strides).astype(np.float32))
        return self._grids[key]


def _clip(x: float, y: float, w: float, h: float, width: int, height: int) -> Box | None:
    x1, y1 = max(0, round(x)), max(0, round(y))
    x2, y2 = min(width, round(x + w)), min(height, round(y + h))
    if x2 <= x1 or y2 <= y1:
        return None
    return Box(x1, y1, x2 - x1, y2 - y1)
