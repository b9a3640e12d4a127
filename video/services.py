"""Writes of the video app: the analysis loop's lease and state, events with their evidence,
statistics, snapshots and their retention, live views and wall screens.

Every view of an unblurred image, every live view opened and every routing to a screen is
journaled. Permissions are checked here, whoever calls.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from controlroom import journal, leases, liveness
from controlroom.errors import StateConflict
from controlroom.permissions import require
from incidents import selectors as incident_selectors
from incidents.services import alerts as alert_services
from incidents.services import conditions
from incidents.services import procedures as procedure_services
from incidents.services.incidents import category_for
from video import catalogue, live
from video.analytics.privacy import sanitise
from video.analytics.types import Box, Event
from video.models import Camera, Screen, ScreenRouting, Snapshot, VideoEvent, ZoneStatistic

SYSTEM = "system:video"
LEASE_MARGIN_SECONDS = leases.MARGIN_SECONDS


def _camera_payload(camera: Camera, **extra) -> dict:
    """What the consoles' map needs to draw the camera again."""
    return {"camera": camera.pk, "code": camera.code, "name": camera.name,
            "online": camera.online, "sensitive": camera.sensitive, "lat": camera.lat,
            "lon": camera.lon, "analytics": sorted(camera.analytics or {}), **extra}


# --- the analysis loop ----------------------------------------------------------------------------

def lease_extend(*, camera_id: int, token: str, seconds: float, now: datetime | None = None
                 ) -> bool:
    """Hold (or keep) the right to analyse the camera for ``seconds`` more (``leases.extend``)."""
    return leases.extend(Camera, pk=camera_id, token=token, seconds=seconds, now=now)


def lease_release(*, camera_id: int, token: str) -> None:
    leases.release(Camera, pk=camera_id, token=token)


def cameras_due(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Enabled cameras nobody analyses, whose retry delay is over, each with a fresh lease."""
    return leases.due(Camera, seconds=settings.VIDEO_WINDOW_SECONDS, now=now)


def camera_frames_seen(*, camera_id: int, fps: float, position: float | None = None,
                       now: datetime | None = None) -> None:
    """A window is receiving frames: the camera is online (back online, journaled, if it was
    not), and a file stream will resume from ``position``."""
    now = now or timezone.now()
    fields = {"last_frame_at": now, "measured_fps": round(fps, 2) if fps else None,
              "failures": 0, "retry_at": None, "last_error": ""}
    if position is not None:
        fields["position"] = position
    with transaction.atomic():
        back = Camera.objects.filter(pk=camera_id, online=False).update(online=True, **fields)
        if not back:
            Camera.objects.filter(pk=camera_id).update(**fields)
            return
        camera = Camera.objects.get(pk=camera_id)
        journal.record(type="camera.online", subject=camera, actor=SYSTEM,
                       payload=_camera_payload(camera))
        conditions.condition_alert_resolve(
            by=SYSTEM, key=_offline_key(camera), source=incident_selectors.AlertSource.CAMERA,
            note="Résolue automatiquement : la caméra transmet de nouveau des images.")


def _offline_key(camera: Camera) -> str:
    return f"camera-offline:{camera.code}"


def camera_failed(*, camera_id: int, error: str, now: datetime | None = None) -> float:
    """The stream could not be read: try again later, each time a little later."""
    with transaction.atomic():
        camera, delay = leases.failed(Camera, pk=camera_id, error=error,
                                      backoff=settings.VIDEO_RETRY_BACKOFF_SECONDS, now=now)
        journal.record(type="camera.connection_failed", subject=camera, actor=SYSTEM,
                       payload=_camera_payload(camera, error=error[:300],
                                               failures=camera.failures, retry_in=delay))
    return delay


def cameras_check_heartbeats(*, now: datetime | None = None) -> int:
    """Online cameras without a frame for ``VIDEO_HEARTBEAT_SECONDS`` go offline, with an alert
    (counted again on the camera's open offline alert if there is one). Right after the worker
    starts, cameras it has not heard yet are given a grace period (``controlroom.liveness``)."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.VIDEO_HEARTBEAT_SECONDS)
    silent = 0
    for camera in Camera.objects.filter(enabled=True, online=True, last_frame_at__lt=limit):
        if not liveness.may_judge(camera.last_frame_at, now=now):
            continue
        silent += conditions.went_offline(
            camera, by=SYSTEM, event_type="camera.offline", payload=_camera_payload,
            key=_offline_key(camera), source=incident_selectors.AlertSource.CAMERA,
            category=category_for(catalogue.CAMERA_OFFLINE_CATEGORY),
            title=f"Caméra hors ligne : {camera.name}", lat=camera.lat, lon=camera.lon,
            severity=3,
            evidence={"camera": camera.code, "last_frame_at": camera.last_frame_at.isoformat(),
                      "error": camera.last_error},
        )
    return silent


# --- events, evidence -----------------------------------------------------------------------------

def snapshot_store(*, camera: Camera, frame: np.ndarray, persons: list[Box],
                   taken_at: datetime) -> Snapshot:
    """Evidence from a frame whose masks are applied: faces and (by default) persons blurred;
    the unblurred copy (still masked) is kept beside it for the rare authorised view."""
    masks = _masks(camera)
    blurred = sanitise(frame, masks=masks, persons=persons,
                       blur_persons=settings.VIDEO_BLUR_PERSONS, blur_faces=True)
    plain = sanitise(frame, masks=masks, blur_persons=False, blur_faces=False)
    height, width = frame.shape[:2]
    retention = timedelta(days=settings.VIDEO_SNAPSHOT_RETENTION_DAYS)
    snapshot = Snapshot(camera=camera, taken_at=taken_at, width=width, height=height,
                        expires_at=taken_at + retention)
    snapshot.image.save("snapshot.jpg", ContentFile(live.encode(blurred, width=width, quality=85)),
                        save=False)
    snapshot.unblurred.save("snapshot.jpg", ContentFile(live.encode(plain, width=width,
                                                                     quality=85)), save=False)
    snapshot.save()
    return snapshot


def _masks(camera: Camera):
    from video.analysis import camera_masks

    return camera_masks(camera)


@dataclass(frozen=True)
class Recorded:
    event_id: int
    alert_id: int | None
    created: bool


def event_record(*, camera: Camera, event: Event, frame: np.ndarray, persons: list[Box],
                 key: str) -> Recorded:
    """Record what a rule saw, once per ``key``: its evidence snapshot and its alert, which the
    inbox deduplicates per camera, rule and zone while the situation lasts."""
    existing = VideoEvent.objects.filter(key=key).values_list("pk", "alert_id").first()
    if existing:
        return Recorded(existing[0], existing[1], created=False)
    snapshot = snapshot_store(camera=camera, frame=frame, persons=persons,
                              taken_at=event.wall_time)
    label = str(catalogue.RULE_LABELS.get(event.rule, event.rule))
    where = f" ({event.zone})" if event.zone else ""
    try:
        with transaction.atomic():
            video_event = VideoEvent.objects.create(
                key=key, camera=camera, rule=event.rule, zone=event.zone,
                confidence=event.confidence, occurred_at=event.wall_time,
                details=journal.to_json_value(event.details), snapshot=snapshot)
            category_code = catalogue.RULE_CATEGORIES.get(event.rule)
            alert = None
            if category_code:
                category = category_for(category_code)
                alert = alert_services.alert_receive(
                    by=SYSTEM, source=incident_selectors.AlertSource.CAMERA, category=category,
                    title=f"{label}{where} — {camera.name}", lat=camera.lat, lon=camera.lon,
                    severity=category.default_priority, occurred_at=event.wall_time,
                    evidence={
                        "camera": camera.code, "camera_name": camera.name, "rule": event.rule,
                        "rule_label": label, "zone": event.zone, "confidence": event.confidence,
                        "details": journal.to_json_value(event.details),
                        "snapshot": snapshot.pk,
                        "snapshot_url": reverse("video:snapshot", args=[snapshot.pk]),
                        "box": _box(event.box, frame),
                    },
                    dedup_key=f"video:{camera.code}:{event.rule}:{event.zone}",
                    source_system="video", source_ref=key, emitter=f"camera:{camera.code}",
                ).alert
                video_event.alert = alert
                video_event.save(update_fields=["alert"])
    except IntegrityError:
        # Another worker recorded the same event first: theirs stands, this snapshot goes.
        _delete_files(snapshot)
        snapshot.delete()
        existing = VideoEvent.objects.filter(key=key).values_list("pk", "alert_id").get()
        return Recorded(existing[0], existing[1], created=False)
    return Recorded(video_event.pk, alert.pk if alert else None, created=True)


def _box(box: Box | None, frame: np.ndarray) -> list[float] | None:
    """The event's box in proportions of the image, for drawing it over the snapshot."""
    if box is None:
        return None
    height, width = frame.shape[:2]
    return [round(box.x / width, 4), round(box.y / height, 4), round(box.w / width, 4),
            round(box.h / height, 4)]


def _delete_files(snapshot: Snapshot) -> None:
    for stored in (snapshot.image, snapshot.unblurred):
        if stored:
            stored.delete(save=False)


def snapshots_expire(*, now: datetime | None = None) -> int:
    """Delete the snapshots past their retention, files first."""
    now = now or timezone.now()
    expired = 0
    for snapshot in Snapshot.objects.filter(expires_at__lte=now).iterator():
        _delete_files(snapshot)
        snapshot.delete()
        expired += 1
    if expired:
        journal.record(type="video.snapshots_expired", actor=SYSTEM,
                       payload={"count": expired, "before": now.isoformat()})
    return expired


def snapshot_unblurred(*, snapshot: Snapshot, by, reason: str) -> bytes:
    """The unblurred image, for who may see it and says why; each view is journaled."""
    require(by, "video.view_unblurred",
            "Vous n'avez pas le droit de voir une image non floutée.")
    reason = (reason or "").strip()
    if len(reason) < settings.VIDEO_UNBLUR_REASON_MIN_LENGTH:
        raise ValidationError({"reason": [
            f"Indiquez le motif de la consultation ({settings.VIDEO_UNBLUR_REASON_MIN_LENGTH} "
            "caractères au moins)."]})
    if not snapshot.unblurred:
        raise StateConflict("Cette image n'a pas de version non floutée.", field="snapshot")
    with snapshot.unblurred.open("rb") as stored:
        data = stored.read()
    journal.record(type="video.snapshot_unblurred", subject=snapshot, actor=by,
                   payload={"snapshot": snapshot.pk, "code": snapshot.camera.code,
                            "reason": reason[:500]})
    return data


# --- statistics -----------------------------------------------------------------------------------

def statistics_add(*, camera_id: int, rows: dict) -> None:
    """Add a window's counts to the period rows (created as needed, added to atomically)."""
    for (zone, period_start), counts in rows.items():
        if not (counts.samples or counts.forward or counts.backward):
            continue
        row, _created = ZoneStatistic.objects.get_or_create(
            camera_id=camera_id, zone=zone[:120], period_start=period_start)
        ZoneStatistic.objects.filter(pk=row.pk).update(
            samples=F("samples") + counts.samples, people_sum=F("people_sum") + counts.people_sum,
            crossings_forward=F("crossings_forward") + counts.forward,
            crossings_backward=F("crossings_backward") + counts.backward)
        ZoneStatistic.objects.filter(pk=row.pk, people_max__lt=counts.people_max).update(
            people_max=counts.people_max)


# --- live view and screens ------------------------------------------------------------------------

def live_view_open(*, camera: Camera, by, where: str = "console") -> None:
    """Someone starts watching a camera: allowed to staff with the live permission, journaled."""
    require(by, "video.view_live", "Vous n'avez pas le droit de voir le direct des caméras.")
    if not camera.enabled:
        raise StateConflict("Cette caméra est hors service.", field="camera")
    journal.record(type="camera.live_viewed", subject=camera, actor=by,
                   payload=_camera_payload(camera, where=where))
    live.watch(camera.pk)


# How far from the incident a camera may be to answer its "show the cameras" step (m).
STEP_CAMERA_RADIUS_M = 1000.0


@transaction.atomic
def step_camera_show(*, step, camera: Camera, by) -> str:
    """Do a "show the nearby cameras" procedure step: open the camera's live view (journaled
    as any live view) and mark the step done with the camera as its evidence. Returns the
    address of the live view. The camera must be within ``STEP_CAMERA_RADIUS_M`` of the
    incident."""
    from controlroom import geo

    if step.kind != incident_selectors.StepKind.SHOW_CAMERAS:
        raise ValidationError({"step": ["Cette étape n'affiche pas de caméra."]})
    incident = step.run.incident
    distance = geo.distance_m(incident.lat, incident.lon, camera.lat, camera.lon)
    if distance > STEP_CAMERA_RADIUS_M:
        raise ValidationError({"camera": [
            f"La caméra {camera.name} est à {round(distance)} m de l'incident : trop loin "
            f"(au plus {round(STEP_CAMERA_RADIUS_M)} m)."]})
    live_view_open(camera=camera, by=by, where="procedure")
    procedure_services.step_complete(
        step=step, by=by, note=f"Caméra affichée : {camera.name}",
        evidence={"action": "camera_shown", "camera": camera.code, "camera_id": camera.pk,
                  "camera_name": camera.name, "distance_m": round(distance)})
    return reverse("video:camera-live", args=[camera.pk])


def _screen_payload(screen: Screen, **extra) -> dict:
    return {"screen": screen.code, "name": screen.name,
            "camera": screen.camera.code if screen.camera else None, **extra}


def _apply(screen: Screen, camera: Camera | None, by, **extra) -> Screen:
    screen.camera = camera
    screen.routed_by = by if not isinstance(by, str) else None
    screen.routed_at = timezone.now()
    screen.save(update_fields=["camera", "routed_by", "routed_at"])
    journal.record(type="screen.routed", subject=screen, actor=by,
                   payload=_screen_payload(screen, **extra))
    return screen


@transaction.atomic
def screen_route(*, screen: Screen, camera: Camera | None, by, reason: str = ""
                 ) -> Screen | ScreenRouting:
    """Show ``camera`` on ``screen`` (``None`` clears it).

    A sensitive camera needs a supervisor: routed at once by one, otherwise a request (with its
    reason) waits for their approval and the screen keeps what it shows.
    """
    require(by, "video.route_screen", "Vous n'avez pas le droit d'affecter les écrans.")
    screen = Screen.objects.select_for_update().get(pk=screen.pk)
    if camera is not None and not camera.enabled:
        raise StateConflict("Cette caméra est hors service.", field="camera")
    if camera is None or not camera.sensitive or by.has_perm("video.approve_sensitive_routing"):
        return _apply(screen, camera, by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Une caméra sensible demande un motif pour l'accord "
                                          "du superviseur."]})
    routing = ScreenRouting.objects.create(screen=screen, camera=camera, requested_by=by,
                                           reason=reason[:300])
    journal.record(type="screen.routing_requested", subject=screen, actor=by,
                   payload=_screen_payload(screen, requested=camera.code,
                                           requested_name=camera.name, routing=routing.pk,
                                           reason=routing.reason))
    return routing


@transaction.atomic
def routing_decide(*, routing: ScreenRouting, by, approve: bool, note: str = "") -> ScreenRouting:
    """A supervisor approves (the screen switches) or refuses a sensitive camera's routing."""
    require(by, "video.approve_sensitive_routing",
            "Seul un superviseur peut autoriser l'affichage d'une caméra sensible.")
    routing = ScreenRouting.objects.select_for_update().get(pk=routing.pk)
    if routing.status != ScreenRouting.Status.PENDING:
        raise StateConflict("Cette demande a déjà été traitée.")
    if routing.requested_by_id == getattr(by, "pk", None):
        raise PermissionDenied("Une demande ne peut pas être accordée par son auteur.")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": ["Indiquez le motif du refus."]})
    routing.status = (ScreenRouting.Status.APPROVED if approve
                      else ScreenRouting.Status.REJECTED)
    routing.decided_by, routing.decided_at, routing.decision_note = by, timezone.now(), note[:300]
    routing.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    screen = Screen.objects.select_for_update().get(pk=routing.screen_id)
    if approve:
        _apply(screen, routing.camera, by, routing=routing.pk,
               requested_by=routing.requested_by.get_username())
    else:
        # The requester is told, by name, why (their console shows it).
        journal.record(type="screen.routing_rejected", subject=screen, actor=by,
                       payload=_screen_payload(
                           screen, routing=routing.pk, note=note[:300],
                           requested=routing.camera.code, requested_name=routing.camera.name,
                           requested_by=routing.requested_by.get_username()))
    return routing


def screen_view_open(*, screen: Screen, by) -> None:
    """A screen's page is opened (a wall screen logs in as a staff member): journaled."""
    require(by, "video.view_live", "Vous n'avez pas le droit de voir le direct des caméras.")
    journal.record(type="screen.viewed", subject=screen, actor=by, payload=_screen_payload(screen))
