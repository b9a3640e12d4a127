"""Celery tasks of the video app.

``analyse_camera`` runs one window of a camera's analysis on the ``video`` queue, then sends the
next window to the queue, where any video worker may take it. The beat's ``supervise_cameras``
checks heartbeats and starts the cameras nobody analyses: new ones, those whose loop stopped
(stream down: retried with backoff) and those whose worker was lost (its lease ran out).
"""

from celery import shared_task
from django.conf import settings

from video import services


def _enqueue(camera_id: int, token: str) -> None:
    # A message older than a window is stale: the beat will have started the camera again.
    analyse_camera.apply_async(args=[camera_id, token],
                               expires=settings.VIDEO_WINDOW_SECONDS
                               + services.LEASE_MARGIN_SECONDS)


@shared_task(name="video.analyse_camera", acks_late=True, reject_on_worker_lost=False,
             ignore_result=True)
def analyse_camera(camera_id: int, token: str) -> dict:
    from video.analysis import analyse_window

    result = analyse_window(camera_id, token=token)
    if not result.stopped:
        _enqueue(camera_id, token)
    return {"frames": result.frames, "events": result.events, "stopped": result.stopped}


@shared_task(name="video.supervise_cameras", ignore_result=True)
def supervise_cameras() -> dict:
    offline = services.cameras_check_heartbeats()
    started = services.cameras_due()
    for camera_id, token in started:
        _enqueue(camera_id, token)
    return {"offline": offline, "started": len(started)}


@shared_task(name="video.expire_snapshots", ignore_result=True)
def expire_snapshots() -> int:
    return services.snapshots_expire()
