"""Reads of the video app, scoped by permission."""

from django.db.models import QuerySet

from video.models import Camera, Screen, ScreenRouting, Snapshot, VideoEvent, ZoneStatistic


def cameras_visible_to(*, user) -> QuerySet[Camera]:
    if not user.has_perm("video.view_camera"):
        return Camera.objects.none()
    return Camera.objects.select_related("sector")


def snapshots_visible_to(*, user) -> QuerySet[Snapshot]:
    """Evidence snapshots are seen by whoever handles alerts or may view cameras' events."""
    if not (user.has_perm("video.view_snapshot") or user.has_perm("incidents.view_alert")):
        return Snapshot.objects.none()
    return Snapshot.objects.select_related("camera")


def events_visible_to(*, user) -> QuerySet[VideoEvent]:
    if not user.has_perm("video.view_videoevent"):
        return VideoEvent.objects.none()
    return VideoEvent.objects.select_related("camera")


def statistics_visible_to(*, user) -> QuerySet[ZoneStatistic]:
    if not user.has_perm("video.view_zonestatistic"):
        return ZoneStatistic.objects.none()
    return ZoneStatistic.objects.select_related("camera")


def screens_visible_to(*, user) -> QuerySet[Screen]:
    if not user.has_perm("video.view_screen"):
        return Screen.objects.none()
    return Screen.objects.select_related("camera")


def routings_visible_to(*, user) -> QuerySet[ScreenRouting]:
    if not user.has_perm("video.view_screenrouting"):
        return ScreenRouting.objects.none()
    return ScreenRouting.objects.select_related("screen", "camera", "requested_by", "decided_by")
