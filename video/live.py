"""The latest masked frame of each watched camera, passed from the video workers to the web.

A viewer's page marks the camera as watched; while it is, the worker analysing the camera
publishes a reduced JPEG a few times a second, masks already applied. Unwatched cameras cost
nothing, and the stream address never leaves the worker.
"""

import cv2
import numpy as np
from django.conf import settings
from django.core.cache import caches

WATCH_SECONDS = 15  # a page refreshes its mark well within this
FRAME_SECONDS = 10  # an older frame is not shown as live


def _cache():
    return caches["frames"]


def watch(camera_id: int) -> None:
    _cache().set(f"watch:{camera_id}", 1, WATCH_SECONDS)


def watched(camera_id: int) -> bool:
    return bool(_cache().get(f"watch:{camera_id}"))


def encode(frame: np.ndarray, *, width: int | None = None, quality: int = 75) -> bytes:
    width = width or settings.VIDEO_LIVE_WIDTH
    height, current = frame.shape[:2]
    if current > width:
        frame = cv2.resize(frame, (width, round(height * width / current)),
                           interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("Encodage JPEG impossible.")
    return data.tobytes()


def publish(camera_id: int, jpeg: bytes) -> None:
    _cache().set(f"frame:{camera_id}", jpeg, FRAME_SECONDS)


def latest(camera_id: int) -> bytes | None:
    return _cache().get(f"frame:{camera_id}")
