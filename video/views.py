"""Pages and images of the video app for staff: live views, wall screens, evidence snapshots.

Frames come from the analysis workers through ``video.live``, masks already applied: the web
server never opens a stream, and no page ever sees a stream address.
"""

import time
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from video import live, selectors, services
from video.models import Camera

# A live view is journaled when it starts, and again if it lasts longer than this.
VIEW_JOURNAL_SECONDS = 600
# Where a frame is asked from, as the journal records it (anything else counts as the console).
VIEW_PLACES = {"console", "page", "admin", "api"}


def _require_live(user) -> None:
    if not user.has_perm("video.view_live"):
        raise PermissionDenied(_("Vous n'avez pas le droit de voir le direct des caméras."))


def _camera(request, pk) -> Camera:
    return get_object_or_404(selectors.cameras_visible_to(user=request.user), pk=pk,
                             enabled=True)


def journal_view(request, camera: Camera, where: str) -> None:
    """Journal that this session watches ``camera`` (once per ``VIEW_JOURNAL_SECONDS``)."""
    key = f"video-live-{camera.pk}"
    seen = request.session.get(key)
    if seen is None or time.time() - seen > VIEW_JOURNAL_SECONDS:
        services.live_view_open(camera=camera, by=request.user, where=where)
        request.session[key] = time.time()
    else:
        live.watch(camera.pk)


def _frame_response(camera: Camera | None) -> HttpResponse:
    data = live.latest(camera.pk) if camera else None
    response = HttpResponse(data, content_type="image/jpeg") if data else HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if camera is not None:
        response["X-Camera-Name"] = quote(camera.name)
        response["X-Camera-Online"] = "1" if camera.online else "0"
    return response


@never_cache
@login_required
def camera_frame(request, pk):
    """The camera's latest masked frame (204 while none has arrived)."""
    _require_live(request.user)
    camera = _camera(request, pk)
    where = request.GET.get("from", "console")
    journal_view(request, camera, where=where if where in VIEW_PLACES else "console")
    if where == "admin" and live.latest(camera.pk) is None \
            and request.user.has_perm("video.change_camera"):
        return _snapshot_response(camera)
    return _frame_response(camera)


# A snapshot taken for the admin's zone editor is kept this long: the editor asks again while
# it waits for the analysis, and the stream is opened once.
SNAPSHOT_SECONDS = 60


def _snapshot_response(camera: Camera) -> HttpResponse:
    """Before the camera's first analysis: an image taken from its stream now (masks applied,
    faces blurred), so its zones can be drawn on it."""
    from django.core.cache import cache

    from video.analysis import camera_snapshot

    key = f"video:admin-snapshot:{camera.pk}:{camera.updated_at.timestamp()}"
    data = cache.get(key)
    if data is None:
        data = camera_snapshot(camera) or b""
        cache.set(key, data, SNAPSHOT_SECONDS)
    if not data:
        return _frame_response(camera)
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Camera-Snapshot"] = "1"
    return response


@never_cache
@login_required
def camera_live(request, pk):
    _require_live(request.user)
    camera = _camera(request, pk)
    journal_view(request, camera, where="page")
    return render(request, "video/live.html", {
        "camera": camera, "refresh_ms": round(1000 / settings.VIDEO_LIVE_FPS)})


@never_cache
@login_required
def screen_page(request, code):
    _require_live(request.user)
    screen = get_object_or_404(selectors.screens_visible_to(user=request.user), code=code)
    services.screen_view_open(screen=screen, by=request.user)
    return render(request, "video/screen.html", {
        "screen": screen, "refresh_ms": round(1000 / settings.VIDEO_LIVE_FPS)})


@never_cache
@login_required
def screen_frame(request, code):
    """The latest frame of whatever camera the screen shows now: the page switches with it."""
    _require_live(request.user)
    screen = get_object_or_404(selectors.screens_visible_to(user=request.user), code=code)
    camera = screen.camera if screen.camera and screen.camera.enabled else None
    if camera is not None:
        live.watch(camera.pk)
    return _frame_response(camera)


@login_required
def snapshot_image(request, pk):
    """An evidence snapshot: masked, faces and persons blurred."""
    snapshot = get_object_or_404(selectors.snapshots_visible_to(user=request.user), pk=pk)
    response = FileResponse(snapshot.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
