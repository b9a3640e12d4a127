"""Privacy: masks blacked out, faces and persons made unrecognisable.

Masks (windows of homes, private courtyards) are applied to every frame before any analysis, so
what they hide is never looked at. Blurring is for images that leave the pipeline (alert
snapshots, live views, clips): a coarse mosaic then a Gaussian blur, which leaves nothing to
sharpen back. What is blurred does not depend on the detector alone (``privacy_boxes``): every
moving region is blurred too, so a person the detector missed is not shown either.
Every function returns a new image and leaves its input untouched.
"""

from collections.abc import Iterable

import cv2
import numpy as np

from .detectors import foreground_regions
from .types import Box, FrameAnalysis, Zone

FACE_CASCADE = "haarcascade_frontalface_default.xml"


def apply_masks(frame: np.ndarray, masks: Iterable[Zone]) -> np.ndarray:
    """A copy of the frame with every mask polygon (normalised coordinates) filled black."""
    result = frame.copy()
    height, width = frame.shape[:2]
    polygons = [zone.pixels(width, height) for zone in masks if len(zone.points) >= 3]
    if polygons:
        cv2.fillPoly(result, polygons, (0,) * (1 if frame.ndim == 2 else frame.shape[2]))
    return result


def mask_image(masks: Iterable[Zone], width: int, height: int) -> np.ndarray:
    """uint8 image of the given size: 0 inside the masks, 255 where analysis may look."""
    keep = np.full((height, width), 255, np.uint8)
    polygons = [zone.pixels(width, height) for zone in masks if len(zone.points) >= 3]
    if polygons:
        cv2.fillPoly(keep, polygons, 0)
    return keep


def privacy_boxes(analysis: FrameAnalysis, *, min_area: int = 1) -> list[Box]:
    """What must be blurred in an image of this frame: every track and detection, and every
    moving region grown upwards and sideways (often only the legs or the arms of a walker
    move); the whole frame while the background is still being learned."""
    width, height = analysis.size
    if not analysis.settled:
        return [Box(0, 0, width, height)]
    boxes = [track.box for track in analysis.tracks]
    boxes += [detection.box for detection in analysis.detections] + analysis.unconfirmed
    regions = []
    if analysis.motion_fraction:
        regions = foreground_regions(analysis.foreground, min_area, merge_distance=4)
    if analysis.changed is not None:
        factor = width / analysis.changed.shape[1]
        regions += [Box(round(r.x * factor), round(r.y * factor), round(r.w * factor),
                        round(r.h * factor))
                    for r in foreground_regions(analysis.changed, 1, merge_distance=1)]
    for region in regions:
        tall = max(region.h, 24)  # a blob of a few pixels may be a far, small person
        side, up = round(0.4 * tall) + 4, round(0.8 * tall) + 4
        x1, y1 = max(0, region.x - side), max(0, region.y - up)
        x2 = min(width, region.x + region.w + side)
        y2 = min(height, region.y + region.h + round(0.2 * tall) + 4)
        boxes.append(Box(x1, y1, x2 - x1, y2 - y1))
    return boxes


def blur_regions(frame: np.ndarray, boxes: Iterable[Box], *, strength: float = 0.2,
                 margin: float = 0.1) -> np.ndarray:
    """A copy of the frame where each box (enlarged by ``margin``) is made unrecognisable.

    The box is reduced to a mosaic whose cells are ``strength`` times its longer side (0.2: five
    cells across a face), then smoothed so the cells' edges reveal nothing either.
    """
    result = frame.copy()
    height, width = frame.shape[:2]
    for box in boxes:
        dx, dy = round(box.w * margin), round(box.h * margin)
        x1, y1 = max(0, box.x - dx), max(0, box.y - dy)
        x2, y2 = min(width, box.x + box.w + dx), min(height, box.y + box.h + dy)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        roi = result[y1:y2, x1:x2]
        w, h = x2 - x1, y2 - y1
        cell = max(2.0, strength * max(w, h))
        small = cv2.resize(roi, (max(1, round(w / cell)), max(1, round(h / cell))),
                           interpolation=cv2.INTER_AREA)
        mosaic = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        sigma = cell / 2
        roi[...] = cv2.GaussianBlur(mosaic, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return result


class FaceBlurrer:
    """Find frontal faces with the Haar cascade shipped with OpenCV, and blur them.

    Frontal faces only, and not the smallest: a safety net under person blurring, not a
    guarantee on its own.
    """

    def __init__(self, *, scale_factor: float = 1.1, min_neighbors: int = 4,
                 min_size=(16, 16), strength: float = 0.2):
        path = cv2.data.haarcascades + FACE_CASCADE
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"Détecteur de visages introuvable : {path}")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = tuple(min_size)
        self.strength = strength

    def faces(self, frame: np.ndarray) -> list[Box]:
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        gray = cv2.equalizeHist(gray)
        found = self._cascade.detectMultiScale(gray, scaleFactor=self.scale_factor,
                                               minNeighbors=self.min_neighbors,
                                               minSize=self.min_size)
        return [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in found]

    def blur(self, frame: np.ndarray) -> np.ndarray:
        """A copy of the frame with the faces found blurred (with a wider margin)."""
        return blur_regions(frame, self.faces(frame), strength=self.strength, margin=0.25)


_default_face_blurrer: FaceBlurrer | None = None


def default_face_blurrer() -> FaceBlurrer:
    global _default_face_blurrer
    if _default_face_blurrer is None:
        _default_face_blurrer = FaceBlurrer()
    return _default_face_blurrer


def sanitise(frame: np.ndarray, *, masks: Iterable[Zone] = (), persons: Iterable[Box] = (),
             blur_persons: bool = True, blur_faces: bool = True,
             face_blurrer: FaceBlurrer | None = None, strength: float = 0.2) -> np.ndarray:
    """The image as it may leave the pipeline: masks first, then faces, then whole persons.

    Masks are applied before blurring, so nothing they hide is smeared into the surroundings,
    and again after, so a blur that spreads into a mask leaves it plain black.
    """
    masks = list(masks)
    result = apply_masks(frame, masks)
    if blur_faces:
        result = (face_blurrer or default_face_blurrer()).blur(result)
    if blur_persons:
        result = blur_regions(result, persons, strength=strength)
    if masks and (blur_faces or blur_persons):
        result = apply_masks(result, masks)
    return result
