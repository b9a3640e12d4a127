"""Reads of the video app, scoped by permission."""

from django.db.models import QuerySet

from video.models import Camera


def cameras_visible_to(*, user) -> QuerySet[Camera]:
    if not user.has_perm("video.view_camera"):
        return Camera.objects.none()
    return Camera.objects.select_related("sector")
