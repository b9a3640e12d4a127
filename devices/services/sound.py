"""Writes of sound analytics: sensors' settings and state, sound events with their alerts, and
impulses located by several sensors.

What is written is the event's type, confidence, time, levels and octave-band levels: never a
sample of audio. Enabling or disabling a sensor and changing its hours are journaled.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from controlroom import journal, leases
from controlroom import services as configuration
from controlroom.geo import distance_m
from controlroom.permissions import require
from devices.acoustics import locate as multilateration
from devices.acoustics import types as acoustic
from devices.models import SoundEvent, SoundLocation, SoundSensor
from incidents import selectors as incident_selectors
from incidents.services import alerts as alert_services
from incidents.services.incidents import category_for

SYSTEM = "system:sound"

LABELS = {
    "detonation": _("Détonation"),
    "scream": _("Cri de détresse"),
    "glass": _("Bris de verre"),
    "music": _("Musique forte la nuit"),
}
CATEGORIES = {"detonation": "coup_de_feu", "scream": "cri_detresse", "glass": "bris_de_verre",
              "music": "nuisance_sonore"}
SEVERITIES = {"detonation": 1, "scream": 1, "glass": 2, "music": 3}
OTHER_CATEGORY = "bruit_suspect"  # what a user-supplied model detects
# Impulses heard by several sensors are located; their arrivals are grouped when their times
# differ by no more than the sensors' distance at the speed of sound, plus this (echoes).
LOCATED_KINDS = ("detonation",)
ECHO_TOLERANCE_SECONDS = 0.15
GROUP_SPAN_SECONDS = 4.0  # about 1.4 km of propagation: sensors farther apart never share one
_LOCK_KEY = 0x50C_A7E  # PostgreSQL advisory lock serialising the grouping of arrivals


def label(kind: str) -> str:
    return str(LABELS.get(kind, kind))


def sensor_payload(sensor: SoundSensor, **extra) -> dict:
    """The sensor as journal and consoles see it (never its stream address)."""
    device = sensor.device
    return {"sensor": sensor.pk, "device": device.pk, "code": device.code, "name": device.name,
            "lat": device.lat, "lon": device.lon, "enabled": sensor.enabled,
            "hours": hours_text(sensor), "detections": sensor.detections, **extra}


# --- settings ---------------------------------------------------------------------------------

def hours_text(sensor: SoundSensor) -> str:
    if sensor.listen_start is None or sensor.listen_end is None:
        hours = str(_("en permanence"))
    else:
        hours = f"{sensor.listen_start:%H:%M}–{sensor.listen_end:%H:%M}"
    if sensor.listen_days and len(set(sensor.listen_days)) < 7:
        names = [str(d) for d in (_("lun."), _("mar."), _("mer."), _("jeu."), _("ven."),
                                  _("sam."), _("dim."))]
        hours += " (" + ", ".join(names[d] for d in sorted(set(sensor.listen_days))) + ")"
    return hours


def _schedule(sensor: SoundSensor) -> tuple:
    return (sensor.listen_start, sensor.listen_end, sorted(sensor.listen_days or []))


@transaction.atomic
def sensor_save(*, sensor: SoundSensor, by, created: bool | None = None) -> SoundSensor:
    """Validate, save and journal a sensor's settings; switching its analysis on or off and
    changing its hours are journaled as such, for the transparency register."""
    require(by, "devices.change_soundsensor", "Vous n'avez pas le droit de régler les capteurs.")
    if created is None:
        created = sensor._state.adding
    before = None if created else SoundSensor.objects.filter(pk=sensor.pk).first()
    configuration.configuration_save(instance=sensor, by=by, created=created)
    if before is None:
        return sensor
    if before.enabled != sensor.enabled:
        journal.record(type="sound_sensor.enabled" if sensor.enabled else "sound_sensor.disabled",
                       subject=sensor, actor=by, payload=sensor_payload(sensor))
    if _schedule(before) != _schedule(sensor):
        journal.record(type="sound_sensor.hours_changed", subject=sensor, actor=by,
                       payload=sensor_payload(sensor, before=hours_text(before)))
    return sensor


def listening(sensor: SoundSensor, moment: datetime | None = None) -> bool:
    """Whether the sensor's hours include ``moment`` (local time); no hours: always."""
    if sensor.listen_start is None or sensor.listen_end is None:
        return True
    local = timezone.localtime(moment or timezone.now())
    start, end = sensor.listen_start, sensor.listen_end
    days = set(sensor.listen_days or range(7))
    now = local.time()
    if start <= end:
        return local.weekday() in days and start <= now < end
    # Overnight hours belong to the day they start.
    if now >= start:
        return local.weekday() in days
    return now < end and (local.weekday() - 1) % 7 in days


def night(sensor: SoundSensor):
    """The music window as a test on sensor time (POSIX seconds), in the city's time zone."""
    start, end = _as_time(sensor.night_start), _as_time(sensor.night_end)

    def active(t: float) -> bool:
        now = timezone.localtime(datetime.fromtimestamp(t, tz=UTC)).time()
        if start == end:
            return True
        return start <= now < end if start < end else (now >= start or now < end)

    return active


def _as_time(value) -> clock_time:
    return value if isinstance(value, clock_time) else clock_time.fromisoformat(str(value))


# --- the analysis loop's state ----------------------------------------------------------------

def sensors_due(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Enabled sensors in their listening hours that nobody analyses, each with a fresh lease."""
    now = now or timezone.now()
    candidates = leases.candidates(SoundSensor, now=now).select_related("device").filter(
        device__active=True)
    pks = [sensor.pk for sensor in candidates if listening(sensor, now)]
    return leases.due(SoundSensor, seconds=settings.SOUND_WINDOW_SECONDS, now=now, pks=pks)


def sensor_heard(*, sensor: SoundSensor, rejected: int = 0, now: datetime | None = None) -> None:
    """Audio arrives: a sign of life of the device (back online if it was not, journaled)."""
    from devices import services as device_services

    now = now or timezone.now()
    SoundSensor.objects.filter(pk=sensor.pk).update(
        last_audio_at=now, failures=0, retry_at=None, last_error="",
        rejected_frames=F("rejected_frames") + rejected)
    # The device as it is now (another process may have put it offline meanwhile).
    sensor.device.refresh_from_db(fields=["online", "last_seen_at"])
    device_services.device_report(device=sensor.device, at=now)


def frames_rejected(*, sensor: SoundSensor, count: int) -> None:
    if count:
        SoundSensor.objects.filter(pk=sensor.pk).update(
            rejected_frames=F("rejected_frames") + count)


def sensor_failed(*, sensor: SoundSensor, error: str, now: datetime | None = None) -> float:
    """The audio could not be read: try again later, each time a little later. The device goes
    offline, with its alert, when it stays silent past its heartbeat delay."""
    with transaction.atomic():
        failed, delay = leases.failed(SoundSensor, pk=sensor.pk, error=error,
                                      backoff=settings.SOUND_RETRY_BACKOFF_SECONDS, now=now)
        journal.record(type="sound_sensor.connection_failed", subject=failed, actor=SYSTEM,
                       payload=sensor_payload(sensor, error=error[:300],
                                              failures=failed.failures, retry_in=delay))
    return delay


# --- events -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    event_id: int
    alert_id: int | None
    created: bool
    location_id: int | None = None


def _moment(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def event_key(sensor: SoundSensor, event: acoustic.SoundEvent) -> str:
    raw = f"{sensor.pk}:{event.kind}:{round(event.start * 1000)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def _evidence(sensor: SoundSensor, event: acoustic.SoundEvent) -> dict:
    return {"sensor": sensor.device.code, "sound": event.kind, "label": label(event.kind),
            "confidence": round(event.confidence, 2), "peak_db": round(event.peak_db, 1),
            "laeq_db": round(event.laeq_db, 1), "at": _moment(event.start).isoformat(),
            "duration_s": round(max(0.0, event.end - event.start), 2),
            "bands": {str(k): round(v, 1) for k, v in sorted(event.bands.items())}}


def event_record(*, sensor: SoundSensor, event: acoustic.SoundEvent) -> Recorded:
    """Record a sound event once and raise its alert, deduplicated per sensor and type while it
    lasts. A detonation heard by others too joins their alert, and is located once three
    sensors or more have heard it."""
    key = event_key(sensor, event)
    existing = SoundEvent.objects.filter(key=key).values_list("pk", "alert_id").first()
    if existing:
        return Recorded(existing[0], existing[1], created=False)
    device = sensor.device
    started = _moment(event.start)
    with transaction.atomic():
        group = None
        if event.kind in LOCATED_KINDS:
            _lock_arrivals()
            group = _group_for(sensor, event.kind, started)
        dedup_key = group.alert.dedup_key if group and group.alert else (
            f"sound:{device.code}:{event.kind}")
        occurred = min(started, timezone.now())
        received = alert_services.alert_receive(
            by=SYSTEM, source=incident_selectors.AlertSource.SENSOR,
            category=category_for(CATEGORIES.get(event.kind, OTHER_CATEGORY)),
            title=f"{label(event.kind)} — {device.name}", lat=device.lat, lon=device.lon,
            severity=SEVERITIES.get(event.kind, 2), occurred_at=occurred,
            evidence=_evidence(sensor, event), dedup_key=dedup_key,
            emitter=f"sound:{device.code}",
        )
        if event.kind in LOCATED_KINDS and group is None:
            group = SoundLocation(kind=event.kind, emitted_at=started, alert=received.alert,
                                  sensors=[], rejected=[])
            group.set_point(device.lat, device.lon)
            group.save()
        row = SoundEvent.objects.create(
            key=key, sensor=sensor, kind=event.kind, confidence=event.confidence,
            started_at=started, ended_at=_moment(max(event.end, event.start)),
            peak_db=event.peak_db, laeq_db=event.laeq_db,
            bands={str(k): round(v, 1) for k, v in sorted(event.bands.items())},
            alert=received.alert, location=group)
        if group is not None:
            _locate(group)
    return Recorded(row.pk, received.alert.pk, created=True,
                    location_id=group.pk if group else None)


def _lock_arrivals() -> None:
    """Arrivals of one impulse come from several workers at once: group them one at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _group_for(sensor: SoundSensor, kind: str, started: datetime) -> SoundLocation | None:
    """The impulse this arrival belongs to: one whose every arrival is compatible with it (no
    further apart in time than in distance at the speed of sound, give or take echoes) and not
    yet heard by this sensor. The closest in time wins."""
    span = timedelta(seconds=GROUP_SPAN_SECONDS)
    nearby = (SoundEvent.objects.filter(kind=kind, location__isnull=False,
                                        started_at__range=(started - span, started + span))
              .select_related("sensor__device", "location__alert"))
    members: dict[int, list[SoundEvent]] = {}
    for other in nearby:
        members.setdefault(other.location_id, []).append(other)
    best, best_gap = None, None
    here = sensor.device
    for arrivals in members.values():
        if any(a.sensor_id == sensor.pk for a in arrivals):
            continue
        fits = all(
            abs((started - a.started_at).total_seconds())
            <= distance_m(here.lat, here.lon, a.sensor.device.lat, a.sensor.device.lon)
            / multilateration.SPEED_OF_SOUND + ECHO_TOLERANCE_SECONDS
            for a in arrivals)
        if not fits:
            continue
        gap = min(abs((started - a.started_at).total_seconds()) for a in arrivals)
        if best_gap is None or gap < best_gap:
            best, best_gap = arrivals[0].location, gap
    return best


def _locate(group: SoundLocation) -> None:
    arrivals = list(group.events.select_related("sensor__device").order_by("started_at"))
    if len(arrivals) < 3:
        return
    first = arrivals[0].started_at
    devices = [a.sensor.device for a in arrivals]
    plane = multilateration.LocalPlane(sum(d.lat for d in devices) / len(devices),
                                       sum(d.lon for d in devices) / len(devices))
    points = []
    for arrival, device in zip(arrivals, devices, strict=True):
        x, y = plane.to_xy(device.lat, device.lon)
        points.append(multilateration.Arrival(
            x=x, y=y, t=(arrival.started_at - first).total_seconds(), key=device.code))
    fix = multilateration.locate(points, jitter=settings.SOUND_CLOCK_JITTER_SECONDS)
    if fix is None:
        return
    lat, lon = plane.to_latlon(fix.x, fix.y)
    group.set_point(lat, lon)
    group.radius_m = round(fix.radius, 1)
    group.emitted_at = first + timedelta(seconds=fix.t0)
    group.sensors = list(fix.used)
    group.rejected = list(fix.rejected)
    group.residual_ms = round(fix.rms_residual * 1000, 2)
    group.save()
    journal.record(type="sound.located", subject=group, actor=SYSTEM,
                   payload={"location": group.pk, "kind": group.kind, "lat": group.lat,
                            "lon": group.lon, "radius_m": group.radius_m,
                            "sensors": group.sensors, "rejected": group.rejected,
                            "alert": group.alert_id})
    alert = group.alert
    if alert is not None and alert.is_open:
        alert_services.alert_locate(
            alert=alert, by=SYSTEM, lat=lat, lon=lon, radius_m=fix.radius,
            evidence={"located": {"lat": round(lat, 6), "lon": round(lon, 6),
                                  "radius_m": group.radius_m, "sensors": group.sensors,
                                  "rejected": group.rejected,
                                  "emitted_at": group.emitted_at.isoformat()}})


def levels_record(*, sensor: SoundSensor, laeq: float, lafmax: float, at: datetime) -> list[str]:
    """A period's levels, as the telemetry of the sensor's device (rules, statistics)."""
    from devices.services import telemetry

    return telemetry.telemetry_record(device=sensor.device,
                                      values={"laeq_db": round(laeq, 1),
                                              "lafmax_db": round(lafmax, 1)}, at=at)
