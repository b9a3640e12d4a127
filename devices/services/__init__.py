"""Writes of the devices app: what devices report (signs of life, states) and heartbeats.

Commands, their life and groups are in ``devices.services.commands``; population alerts, sound
sensors, telemetry and procedure proposals have their own modules here.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from controlroom import journal, liveness
from devices.models import Device
from incidents import selectors as incident_selectors
from incidents.services import conditions

SYSTEM = "system:devices"


# --- what devices report ---------------------------------------------------------------------
def device_report(*, device: Device, state: dict | None = None, at: datetime | None = None):
    """A sign of life from a device (a state, an ack, a telemetry message)."""
    now = at or timezone.now()
    fields = {"last_seen_at": now}
    if state is not None:
        fields["state"] = state
    with transaction.atomic():
        # Back online as the database says (this instance may be older than a checker's verdict).
        back = bool(Device.objects.filter(pk=device.pk, online=False).update(online=True,
                                                                            **fields))
        if not back:
            Device.objects.filter(pk=device.pk).update(**fields)
        for name, value in {**fields, "online": True}.items():
            setattr(device, name, value)
        if back or state is not None:
            journal.record(type="device.back_online" if back else "device.state",
                           subject=device, actor=SYSTEM, payload=_device_payload(device))
        if back:
            conditions.condition_alert_resolve(
                by=SYSTEM, key=_offline_key(device), source=incident_selectors.AlertSource.SENSOR,
                note="Résolue automatiquement : l'équipement émet de nouveau.")


def _offline_key(device: Device) -> str:
    return f"device-offline:{device.code}"


def _device_payload(device: Device) -> dict:
    return {"device": device.pk, "code": device.code, "name": device.name, "kind": device.kind,
            "state": device.state, "online": device.online, "lat": device.lat, "lon": device.lon}


def devices_check_heartbeats(*, now: datetime | None = None) -> int:
    """Devices silent for longer than their delay go offline, with an alert, once (counted
    again on the device's open offline alert if there is one). Right after the worker starts,
    devices it has not heard yet are given a grace period (``controlroom.liveness``)."""
    now = now or timezone.now()
    silent = 0
    for device in Device.objects.filter(active=True, online=True).exclude(last_seen_at=None):
        if device.last_seen_at >= now - timedelta(seconds=device.heartbeat_seconds):
            continue
        if not liveness.may_judge(device.last_seen_at, now=now):
            continue
        silent += conditions.went_offline(
            device, by=SYSTEM, event_type="device.offline", payload=_device_payload,
            key=_offline_key(device), source=incident_selectors.AlertSource.SENSOR,
            category=incident_selectors.category_get(code="panne_equipement"),
            title=f"Équipement hors ligne : {device.name}", lat=device.lat, lon=device.lon,
            severity=3 if device.spec.is_sensor else 2,
            evidence={"device": device.code, "last_seen_at": device.last_seen_at.isoformat(),
                      "heartbeat_seconds": device.heartbeat_seconds},
        )
    return silent
