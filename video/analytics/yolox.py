"""YOLOX person detection (Megvii's YOLOX, COCO classes), in ONNX Runtime or OpenCV's DNN module.

The recommended detector: YOLOX-Nano (3.6 MB, Apache-2.0) finds walkers of 30 pixels and more
that HOG misses, at about 11 ms per 416x320 pass on one core in ONNX Runtime (34 ms in OpenCV's
DNN module, ``runtime="opencv"``). Its network is fully
convolutional, so the input need not be the 416x416 square it was exported with: the frame is
resized to ``input_width`` pixels wide and the height that keeps its aspect (both multiples of
32), so no time is spent on letterbox bars. Where people are small, ``tiles`` splits the frame
into overlapping tiles, each run at the same input size (a 2x2 grid doubles the people's size
for the network, at four times the cost).

Given the regions where something moves (and where people are followed), the network sees only
crops around them, at the scale of the whole-frame pass: the same people at the same size, for a
cost that follows the area searched rather than the frame's (crops close together are searched
as one, and the whole frame is searched at once when they would cover most of it).

Output rows (per grid cell of the strides 8, 16 and 32): ``cx, cy`` offsets within the cell,
``log w, log h`` in strides, objectness, 80 class scores; score = objectness x class score.
"""

from pathlib import Path

import cv2
import numpy as np

from .detectors import OnnxNetwork, non_maximum_suppression
from .types import Box, Detection

STRIDES = (8, 16, 32)
COCO_PERSON = 0


class YoloxDetector:
    """People (COCO class 0) found by a YOLOX ONNX model; other classes are ignored.

    ``regions`` (from the motion gate, plus the people followed) are searched in padded crops
    at the whole-frame pass's scale (``crop=False``: the whole frame, or each tile, always); an
    empty list (nothing moves) skips the pass. Crops are padded by ``crop_margin`` of each
    region's height (16 pixels at least) so that a person only partly moving is seen whole; with
    tiles, crops are searched at the tiles' scale; none is smaller than ``min_crop`` input
    pixels a side (the network sees too little around a person in less: on the campus clip,
    64-pixel crops lost two people walking side by side that 96-pixel ones find). ``search_tracks`` asks the pipeline to add
    the boxes of the people it follows to the regions, so that someone who stops is still found
    where they stand, as the whole-frame pass finds them.
    """

    # A pass costs a fixed part plus a part proportional to its input's pixels: two crops are
    # searched as one when that costs no more than this many input pixels on top of searching
    # them apart (a pass's fixed part was worth 4,000 to 6,000 input pixels with YOLOX-Nano,
    # in OpenCV 4.14 as in ONNX Runtime 1.32).
    pass_overhead = 4096
    # Crops covering more than this share of the frame: the whole frame in one pass.
    whole_frame_share = 0.6

    def __init__(self, path, *, input_width: int = 416, tiles: tuple[int, int] = (1, 1),
                 overlap: float = 0.15, score_threshold: float = 0.35,
                 nms_threshold: float = 0.45, label: str = "person", crop: bool = True,
                 crop_margin: float = 0.25, min_crop: int = 96, search_tracks: bool = True,
                 runtime: str = "onnxruntime"):
        path = Path(path)
        self._net = OnnxNetwork(path, runtime)
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
        self.crop = bool(crop)
        if not 0 <= crop_margin <= 2:
            raise ValueError("La marge autour des zones en mouvement va de 0 à 2 hauteurs.")
        self.crop_margin = float(crop_margin)
        if min_crop < 32 or min_crop % 32:
            raise ValueError("La taille minimale d'un recadrage est un multiple de 32 (≥ 32).")
        self.min_crop = int(min_crop)
        self.search_tracks = bool(search_tracks)
        self.passes = 0  # network passes run, and their input pixels: for benchmarks
        self.pixels = 0
        self._grids: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def detect(self, frame_bgr: np.ndarray, regions: list[Box] | None = None) -> list[Detection]:
        if regions is not None and not regions:
            return []
        height, width = frame_bgr.shape[:2]
        tiles = self._tile_boxes(width, height)
        crops = None
        if regions is not None and self.crop:
            # The scale of the whole-frame (or tile) pass, so that crops see people as it does.
            scale = self.input_width / tiles[0][2]
            crops = self._crops(regions, width, height, scale)
        detections = []
        if crops is None:
            for x, y, w, h in tiles:
                detections.extend(self._detect_in(frame_bgr, x, y, w, h))
        else:
            for crop in crops:
                detections.extend(self._detect_crop(frame_bgr, crop, scale))
        return non_maximum_suppression(detections, self.nms_threshold)

    def _crops(self, regions: list[Box], width: int, height: int,
               scale: float) -> list[Box] | None:
        """The crops to search, in frame pixels, each a whole number of network strides at
        ``scale``; ``None`` when the whole frame costs less or little more."""
        step = STRIDES[-1] / scale  # frame pixels per 32 input pixels
        least = self.min_crop / scale / 2  # half the smallest crop, in frame pixels
        crops = []
        for region in regions:
            pad = max(16.0, self.crop_margin * region.h)
            (cx, cy), half_w, half_h = region.center, region.w / 2 + pad, region.h / 2 + pad
            half_w, half_h = max(half_w, least), max(half_h, least)
            crops.append(self._snapped(cx - half_w, cy - half_h, cx + half_w, cy + half_h,
                                       step, width, height))
        merged = True
        while merged:
            merged = False
            for i in range(len(crops)):
                for j in range(i + 1, len(crops)):
                    a, b = crops[i], crops[j]
                    union = self._snapped(min(a.x, b.x), min(a.y, b.y),
                                          max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h),
                                          step, width, height)
                    cost = (union.area - a.area - b.area) * scale * scale
                    if cost <= self.pass_overhead:
                        crops[i] = union
                        del crops[j]
                        merged = True
                        break
                if merged:
                    break
        if sum(crop.area for crop in crops) >= self.whole_frame_share * width * height:
            return None
        return crops

    @staticmethod
    def _snapped(x1: float, y1: float, x2: float, y2: float, step: float, width: int,
                 height: int) -> Box:
        """The box grown, about its centre, to whole steps, kept inside the frame."""
        def span(a, b, limit):
            a, b = max(0.0, a), min(float(limit), b)
            size = min(limit, max(1, int(-(-(b - a) // step))) * step)
            start = min(max(0.0, (a + b - size) / 2), limit - size)
            return int(start), int(min(limit, round(start + size)) - int(start))

        x, w = span(x1, x2, width)
        y, h = span(y1, y2, height)
        return Box(x, y, w, h)

    def _detect_crop(self, frame, crop: Box, scale: float) -> list[Detection]:
        """Search one crop at ``scale``: resized, then padded with grey to whole strides."""
        stride = STRIDES[-1]
        image = frame[crop.y:crop.y + crop.h, crop.x:crop.x + crop.w]
        size_w, size_h = max(1, round(crop.w * scale)), max(1, round(crop.h * scale))
        image = cv2.resize(image, (size_w, size_h),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        in_w, in_h = -(-size_w // stride) * stride, -(-size_h // stride) * stride
        if (in_w, in_h) != (size_w, size_h):
            image = cv2.copyMakeBorder(image, 0, in_h - size_h, 0, in_w - size_w,
                                       cv2.BORDER_CONSTANT, value=(114, 114, 114))
        return self._infer(image, frame.shape, crop.x, crop.y, 1 / scale, 1 / scale)

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
        image = cv2.resize(tile, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        return self._infer(image, frame.shape, x0, y0, w / in_w, h / in_h)

    def _infer(self, image, shape, x0: int, y0: int, fx: float, fy: float) -> list[Detection]:
        """One network pass on ``image`` (its size whole strides); boxes back in the frame's
        pixels: ``x0 + x * fx``, ``y0 + y * fy``."""
        in_h, in_w = image.shape[:2]
        # BGR, 0..255, no mean or scaling: what YOLOX was trained on.
        blob = cv2.dnn.blobFromImage(image, 1.0, swapRB=False)
        self.passes += 1
        self.pixels += in_w * in_h
        rows = np.asarray(self._net.forward(blob), np.float32).reshape(-1, 85)
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
        detections = []
        for (cx, cy), (bw, bh), score in zip(centres, sizes, scores):
            box = _clip(x0 + (cx - bw / 2) * fx, y0 + (cy - bh / 2) * fy, bw * fx, bh * fy,
                        shape[1], shape[0])
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
