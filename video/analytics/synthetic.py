"""Deterministic synthetic clips for tests and demonstrations.

A ``Scene`` draws a textured static background, "walkers" (rectangles, ellipses or crude human
silhouettes) moving along straight trajectories and flickering flame-coloured patches, with
optional sensor noise. The same scene, seed and time always give the same pixels, and each
walker's true box is known (``Scene.truth``). The silhouettes are not meant to fool a person
detector: tests of rules on synthetic footage should rely on foreground blobs.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .types import Box


def write_clip(path, frames: Iterable[np.ndarray], fps: float = 10, codec: str = "MJPG") -> int:
    """Write BGR frames (all of the first one's size) to a video file; return how many.

    AVI with Motion JPEG is what OpenCV's own FFmpeg backend writes and reads back everywhere.
    """
    writer = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps,
                                         (width, height))
                if not writer.isOpened():
                    raise ValueError(f"Impossible d'écrire la vidéo {path} avec le codec {codec}.")
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            writer.write(frame)
            count += 1
    finally:
        if writer is not None:
            writer.release()
    if not count:
        raise ValueError("Aucune image à écrire.")
    return count


def textured_background(width: int, height: int, *, seed: int = 0) -> np.ndarray:
    """A static street-like background: a sky-to-ground gradient, blocks and a fine texture."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([170, 160, 150], np.float32), np.array([90, 100, 95], np.float32)
    image = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (height, width, 3)).copy()
    for _ in range(6):  # buildings, benches, kerbs
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height // 2))
        w = int(rng.integers(width // 10, width // 4))
        h = int(rng.integers(height // 10, height // 3))
        colour = rng.integers(40, 200, 3).astype(np.float32)
        image[y:y + h, x:x + w] = colour
    texture = cv2.GaussianBlur(rng.normal(0, 12, (height, width)).astype(np.float32), (0, 0), 1.5)
    return np.clip(image + texture[..., None], 0, 255).astype(np.uint8)


def person_sprite(height: int, colour=(60, 50, 40)) -> tuple[np.ndarray, np.ndarray]:
    """A crude standing human silhouette ``height`` pixels tall: (BGR image, 0/255 mask)."""
    height = max(8, int(height))
    width = max(4, height * 2 // 5)
    mask = np.zeros((height, width), np.uint8)
    cx = width // 2
    head = max(2, height // 8)
    cv2.circle(mask, (cx, head), head, 255, -1)
    shoulders, hips = int(height * 0.24), int(height * 0.58)
    cv2.rectangle(mask, (cx - width // 4, shoulders), (cx + width // 4, hips), 255, -1)
    limb = max(1, width // 8)
    cv2.line(mask, (cx - width // 4, shoulders), (cx - width // 2 + limb, hips), 255, limb)
    cv2.line(mask, (cx + width // 4, shoulders), (cx + width // 2 - limb, hips), 255, limb)
    cv2.line(mask, (cx - width // 8, hips), (cx - width // 5, height - 1), 255, limb + 1)
    cv2.line(mask, (cx + width // 8, hips), (cx + width // 5, height - 1), 255, limb + 1)
    image = np.zeros((height, width, 3), np.uint8)
    image[mask > 0] = colour
    return image, mask


@dataclass(frozen=True)
class Walker:
    """Something crossing the scene in a straight line at constant speed.

    ``start`` is where its top-left corner is at ``appears`` (seconds); ``velocity`` is in pixels
    per second; it is gone after ``disappears`` (None: never). ``shape`` is "rect", "ellipse" or
    "person".
    """

    start: tuple[float, float]
    velocity: tuple[float, float]
    size: tuple[int, int] = (20, 50)
    shape: str = "rect"
    colour: tuple[int, int, int] = (40, 40, 200)
    appears: float = 0.0
    disappears: float | None = None

    def box(self, t: float) -> Box | None:
        if t < self.appears or (self.disappears is not None and t > self.disappears):
            return None
        dt = t - self.appears
        x = self.start[0] + self.velocity[0] * dt
        y = self.start[1] + self.velocity[1] * dt
        return Box(round(x), round(y), self.size[0], self.size[1])


@dataclass(frozen=True)
class Flame:
    """A flickering fire-coloured patch (orange to yellow, changing shape every frame); with
    ``grows_to`` it spreads from ``box`` to that box over ``grow_seconds`` (a fire starting)."""

    box: Box
    appears: float = 0.0
    grows_to: Box | None = None
    grow_seconds: float = 10.0

    def box_at(self, t: float) -> Box:
        if self.grows_to is None:
            return self.box
        share = min(1.0, max(0.0, (t - self.appears) / self.grow_seconds))
        a, b = self.box, self.grows_to
        return Box(*(round(u + (v - u) * share) for u, v in
                     ((a.x, b.x), (a.y, b.y), (a.w, b.w), (a.h, b.h))))


@dataclass
class Scene:
    width: int = 320
    height: int = 180
    walkers: tuple[Walker, ...] = ()
    flames: tuple[Flame, ...] = ()
    noise: float = 0.0  # standard deviation of the per-frame sensor noise, in grey levels
    seed: int = 0
    background: np.ndarray | None = None

    def __post_init__(self):
        if self.background is None:
            self.background = textured_background(self.width, self.height, seed=self.seed)
        self._noise = _noise_bank(self.background.shape, self.noise, self.seed)

    def render(self, t: float, index: int = 0) -> np.ndarray:
        """The frame at time ``t``; ``index`` seeds what changes frame to frame (noise, flames)."""
        frame = self.background.copy()
        rng = np.random.default_rng((self.seed, index))
        for walker in self.walkers:
            box = walker.box(t)
            if box is not None:
                _draw_walker(frame, walker, box)
        for flame in self.flames:
            if t >= flame.appears:
                _draw_flame(frame, flame.box_at(t), rng)
        if self._noise:
            brighter, darker = self._noise[index % len(self._noise)]
            frame = cv2.subtract(cv2.add(frame, brighter), darker)
        return frame

    def truth(self, t: float) -> list[Box]:
        """The boxes of the walkers visible at ``t`` (clipped to the frame)."""
        boxes = []
        for walker in self.walkers:
            box = walker.box(t)
            if box is not None and (clipped := _clip(box, self.width, self.height)) is not None:
                boxes.append(clipped)
        return boxes

    def frames(self, count: int, fps: float = 10) -> Iterator[np.ndarray]:
        for index in range(count):
            yield self.render(index / fps, index)

    def write(self, path, count: int, fps: float = 10, codec: str = "MJPG") -> Path:
        write_clip(path, self.frames(count, fps), fps=fps, codec=codec)
        return Path(path)


def _noise_bank(shape, sigma: float, seed: int, size: int = 16):
    """Sensor noise for ``size`` frames, cycled: as random to the analysis as fresh noise, at a
    fraction of the cost (kept as what to add and what to subtract, both saturating)."""
    if not sigma:
        return []
    rng = np.random.default_rng((seed, 1))
    bank = []
    for _ in range(size):
        noise = np.rint(rng.normal(0, sigma, shape)).clip(-255, 255).astype(np.int16)
        bank.append((noise.clip(0, 255).astype(np.uint8), (-noise).clip(0, 255).astype(np.uint8)))
    return bank


def _clip(box: Box, width: int, height: int) -> Box | None:
    x1, y1 = max(0, box.x), max(0, box.y)
    x2, y2 = min(width, box.x + box.w), min(height, box.y + box.h)
    if x2 <= x1 or y2 <= y1:
        return None
    return Box(x1, y1, x2 - x1, y2 - y1)


def _draw_walker(frame: np.ndarray, walker: Walker, box: Box) -> None:
    if walker.shape == "rect":
        cv2.rectangle(frame, (box.x, box.y), (box.x + box.w - 1, box.y + box.h - 1),
                      walker.colour, -1)
    elif walker.shape == "ellipse":
        centre = (box.x + box.w // 2, box.y + box.h // 2)
        cv2.ellipse(frame, centre, (box.w // 2, box.h // 2), 0, 0, 360, walker.colour, -1)
    elif walker.shape == "person":
        sprite, mask = person_sprite(box.h, walker.colour)
        _paste(frame, sprite, mask, box.x, box.y)
    else:
        raise ValueError(f"Forme inconnue : {walker.shape}")


def _paste(frame: np.ndarray, sprite: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    height, width = frame.shape[:2]
    h, w = mask.shape
    x1, y1, x2, y2 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x2 <= x1 or y2 <= y1:
        return
    region = frame[y1:y2, x1:x2]
    inside = mask[y1 - y:y2 - y, x1 - x:x2 - x] > 0
    region[inside] = sprite[y1 - y:y2 - y, x1 - x:x2 - x][inside]


def _draw_flame(frame: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    x1, y1 = max(0, box.x), max(0, box.y)
    x2, y2 = min(frame.shape[1], box.x + box.w), min(frame.shape[0], box.y + box.h)
    if x2 <= x1 or y2 <= y1:
        return
    h, w = y2 - y1, x2 - x1
    # Tongues of fire: a few of them, their heights and the whole flame's changing every frame
    # (a flicker coarse enough to survive the motion gate's downscaling).
    tongues = np.interp(np.linspace(0, 4, w), np.arange(5), rng.uniform(0.3, 1.0, 5))
    heights = (h * rng.uniform(0.3, 1.0) * tongues).astype(int)
    rows = np.arange(h)[:, None]
    lit = rows >= (h - heights)[None, :]
    heat = rng.uniform(0, 1, (h, w))
    flame = np.zeros((h, w, 3), np.uint8)
    flame[..., 2] = 255
    flame[..., 1] = (90 + 150 * heat).astype(np.uint8)  # orange to yellow
    flame[..., 0] = (40 * heat).astype(np.uint8)
    region = frame[y1:y2, x1:x2]
    region[lit] = flame[lit]
