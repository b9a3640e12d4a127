"""Reads of the video app, scoped by permission."""

from django.db.models import QuerySet

from video.models import Camera, Screen, ScreenRouting, Snapshot, VideoEvent, ZoneStatistic


def cameras_visible_to(*, user) -> QuerySet[Camera]:
    if not user.has_perm("video.view_camera"):
        return Camera.objects.none()
    return Camera.objects.select_related("sector")


def cameras_nearest(*, user, lat: float, lon: float, limit: int = 3,
                    within_m: float = 1000.0) -> list[tuple[Camera, float]]:
    """The cameras nearest to a point (within ``within_m``), with their distance: the ones to
    look through first at an incident or a located sound."""
    from controlroom import geo

    found = []
    for camera in cameras_visible_to(user=user).filter(enabled=True):
        distance = geo.distance_m(lat, lon, camera.lat, camera.lon)
        if distance <= within_m:
            found.append((camera, distance))
    return sorted(found, key=lambda pair: pair[1])[:limit]


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
