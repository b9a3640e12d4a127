"""The motion gate: a cheap background subtraction that decides when the heavier stages run.

Background subtraction works on a grey, downscaled copy of the frame (a quarter of the size by
default, a sixteenth of the pixels), so an idle camera costs little more than its decoding.
"""

import math

import cv2
import numpy as np


class MotionGate:
    """Tell what moves in a frame, and whether enough moves to look closer.

    ``min_fraction`` is the share of the frame that must be in the foreground for ``moving``;
    ``learning_rate`` is OpenCV's (-1: automatic, from ``history``). ``kind`` is "mog2" (Gaussian
    mixtures, shadows not detected) or "knn".

    Idle shortcut: while nothing is in the foreground, a frame whose pixels all stay within
    ``idle_threshold`` grey levels of the last one modelled cannot hold anything the subtractor
    would flag (by default 80 % of the smallest deviation MOG2 can flag), so the subtractor is
    not run; it still learns from one frame in ``refresh_every``, and from every one of its
    first ``warm_up``. ``idle_threshold=0`` runs it on every frame.

    The model works in grey levels: a walker whose grey level is that of the ground behind it
    (a red coat on a grey-green lawn can be) goes unseen until its outline differs.
    """

    def __init__(self, *, scale: float = 0.25, history: int = 300, var_threshold: float = 25,
                 min_fraction: float = 0.002, learning_rate: float = -1, kind: str = "mog2",
                 idle_threshold: int | None = None, refresh_every: int = 25,
                 warm_up: int = 30):
        if not 0 < scale <= 1:
            raise ValueError("L'échelle du détecteur de mouvement doit être comprise entre 0 et 1.")
        self.scale = scale
        self.history = history
        self.var_threshold = var_threshold
        self.min_fraction = min_fraction
        self.learning_rate = learning_rate
        self.kind = kind
        if idle_threshold is None:
            # MOG2 flags a pixel beyond sqrt(var_threshold * variance), its variance at least 4.
            idle_threshold = int(0.8 * math.sqrt(var_threshold * 4))
        self.idle_threshold = idle_threshold
        self.refresh_every = refresh_every
        self.warm_up = warm_up
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        halvings = math.log2(1 / scale)
        self._halvings = round(halvings) if abs(halvings - round(halvings)) < 1e-9 else None
        self.reset()

    def reset(self) -> None:
        """Forget the background (after the camera moved, or a reconnection)."""
        if self.kind == "mog2":
            self._subtractor = cv2.createBackgroundSubtractorMOG2(
                history=self.history, varThreshold=self.var_threshold, detectShadows=False)
        elif self.kind == "knn":
            # KNN's threshold is a squared distance; 16x keeps it near MOG2's sensitivity.
            self._subtractor = cv2.createBackgroundSubtractorKNN(
                history=self.history, dist2Threshold=self.var_threshold * 16,
                detectShadows=False)
        else:
            raise ValueError(f"Type de soustraction de fond inconnu : {self.kind}")
        self.frames = 0
        self.frames_modelled = 0  # frames the subtractor actually ran on
        self._reference: np.ndarray | None = None
        self._idle = False
        self._since_model = 0
        self.unfiltered: np.ndarray | None = None

    def apply(self, frame: np.ndarray) -> tuple[np.ndarray, float, bool]:
        """Return (foreground mask at the frame's size, 0/255; foreground share; moving).

        ``frame`` is BGR, or already grey (the pipeline passes the grey frame it needs anyway).
        """
        height, width = frame.shape[:2]
        small = self._shrink(frame)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        elif small is frame:
            small = frame.copy()  # kept as the reference: the caller may reuse its buffer
        self.frames += 1
        if (self._idle and self.frames_modelled >= self.warm_up
                and self._since_model < self.refresh_every - 1 and self._still(small)):
            self._since_model += 1
            self.unfiltered = None
            return np.zeros((height, width), np.uint8), 0.0, False
        mask = self._subtractor.apply(small, learningRate=self._learning_rate())
        self.frames_modelled += 1
        self._reference, self._since_model = small, 0
        if self.frames_modelled == 1:
            # The first frame is the background; nothing has moved yet.
            self._idle = True
            return np.zeros((height, width), np.uint8), 0.0, False
        foreground = cv2.countNonZero(mask)
        # Unfiltered, at the model's size: specks too small to analyse may be far people,
        # which privacy blurs all the same.
        self.unfiltered = mask if foreground else None
        if foreground:
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
            foreground = cv2.countNonZero(mask)
        self._idle = not foreground
        if not foreground:
            return np.zeros((height, width), np.uint8), 0.0, False
        fraction = foreground / mask.size
        if mask.shape != (height, width):
            mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
        return mask, fraction, fraction >= self.min_fraction

    def _learning_rate(self) -> float:
        if self.learning_rate >= 0:
            return self.learning_rate
        # OpenCV's automatic rate counts the frames it saw; count the skipped idle frames too,
        # or a young model would absorb the first thing that moves within a few frames.
        return 1.0 / min(2 * self.frames, self.history)

    def _shrink(self, frame: np.ndarray) -> np.ndarray:
        if self._halvings is not None:
            # Halving with bilinear interpolation averages each 2x2 block: an area resize
            # (it smooths sensor noise away), at a third of the cost of OpenCV's own.
            for _ in range(self._halvings):
                height, width = frame.shape[:2]
                frame = cv2.resize(frame, (max(1, width // 2), max(1, height // 2)),
                                   interpolation=cv2.INTER_LINEAR)
            return frame
        height, width = frame.shape[:2]
        size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)

    def _still(self, small: np.ndarray) -> bool:
        if self.idle_threshold <= 0 or self._reference is None:
            return False
        if self._reference.shape != small.shape:
            return False
        difference = cv2.absdiff(small, self._reference)
        _, changed = cv2.threshold(difference, self.idle_threshold, 255, cv2.THRESH_BINARY)
        return cv2.countNonZero(changed) == 0
