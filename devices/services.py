"""Writes of the devices app: commands and their life, groups, heartbeats.

    requested → (awaiting_approval → requested) → sent → acknowledged → done
                                                       ↘ retrying → sent …  ↘ failed
    awaiting_approval → rejected;  sent → timed_out when every attempt went unanswered.

Every transition is journaled (``device_command.<status>``) and pushed to the consoles. Sending
runs in Celery (``devices.tasks.send_command``); the database is never locked while a device is
being waited for.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from controlroom import journal, liveness
from controlroom.errors import StateConflict
from devices import capabilities, drivers, selectors
from devices.drivers.mqtt import MqttDriver
from devices.drivers.simulator import SimulatorDriver
from devices.models import Command, CommandGroup, Device
from incidents.models import Alert, Category, Incident
from incidents.services import conditions
from incidents.services.common import require

SYSTEM = "system:devices"
_simulator = None


# --- drivers ---------------------------------------------------------------------------------
def driver_for(device: Device):
    global _simulator
    if device.driver == Device.Driver.MQTT:
        return MqttDriver(url=settings.MQTT_URL, prefix=settings.MQTT_TOPIC_PREFIX)
    if _simulator is None:
        _simulator = SimulatorDriver(delay=settings.DEVICE_SIMULATOR_DELAY,
                                     failure_rate=settings.DEVICE_SIMULATOR_FAILURE_RATE)
    return _simulator


# --- journal ---------------------------------------------------------------------------------
def _payload(command: Command, **extra) -> dict:
    device = command.device
    return {
        "command": command.pk,
        "uid": str(command.uid),
        "device": device.pk,
        "device_code": device.code,
        "device_name": device.name,
        "kind": device.kind,
        "action": command.action,
        "params": command.params,
        "status": command.status,
        "critical": command.critical,
        "attempts": command.attempts,
        "lat": device.lat,
        "lon": device.lon,
        "incident": command.incident_id,
        "group": command.group_id,
        **extra,
    }


def _record(command: Command, by, **extra):
    return journal.record(type=f"device_command.{command.status}", subject=command, actor=by,
                          payload=_payload(command, **extra))


def _enqueue(command: Command) -> None:
    from devices import tasks

    transaction.on_commit(lambda: tasks.send_command.delay(command.pk))


# --- requesting, approving -------------------------------------------------------------------
@transaction.atomic
def command_request(*, device: Device, action: str, params: dict | None, by,
                    incident: Incident | None = None, group: CommandGroup | None = None
                    ) -> Command:
    """Check a command against the device's capabilities and queue it (or hold it for approval).

    Critical commands (bollards, sirens, all-red…) wait for a supervisor other than the requester.
    An exercise never commands real equipment.
    """
    if incident is not None and incident.exercise_id:
        raise StateConflict("Exercice : aucune commande n'est envoyée aux équipements réels ; "
                            "notez l'action dans la procédure.", field="incident")
    require(by, "devices.command_device", "Vous n'avez pas le droit de commander un équipement.")
    if not device.active:
        raise ValidationError({"device": ["Cet équipement est hors service."]})
    try:
        params = capabilities.check_command(device.kind, action, params)
    except capabilities.CommandRefused as refusal:
        raise ValidationError({refusal.field: [str(refusal)]}) from None
    critical = capabilities.is_critical(device.kind, action, params)
    command = Command.objects.create(
        device=device, action=action, params=params, critical=critical, incident=incident,
        group=group, requested_at=timezone.now(),
        requested_by=None if isinstance(by, str) else by,
        status=Command.Status.AWAITING_APPROVAL if critical else Command.Status.REQUESTED,
    )
    _record(command, by)
    if not critical:
        _enqueue(command)
    return command


def _locked(command: Command, *statuses) -> Command:
    command = Command.objects.select_for_update().select_related("device").get(pk=command.pk)
    if command.status not in statuses:
        raise StateConflict(f"Cette commande est « {command.get_status_display()} ».")
    return command


def _second_person(command: Command, by) -> None:
    require(by, "devices.approve_command",
            "Seul un superviseur peut approuver ou refuser une commande critique.")
    if not isinstance(by, str) and command.requested_by_id == by.pk:
        raise PermissionDenied("Une commande critique doit être approuvée par une autre personne "
                               "que celle qui l'a demandée.")


@transaction.atomic
def command_approve(*, command: Command, by) -> Command:
    command = _locked(command, Command.Status.AWAITING_APPROVAL)
    _second_person(command, by)
    command.status = Command.Status.REQUESTED
    command.approved_by = None if isinstance(by, str) else by
    command.decided_at = timezone.now()
    command.save()
    _record(command, by, approved=True)
    _enqueue(command)
    return command


@transaction.atomic
def command_reject(*, command: Command, by, reason: str) -> Command:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Indiquez pourquoi la commande est refusée."]})
    command = _locked(command, Command.Status.AWAITING_APPROVAL)
    _second_person(command, by)
    command.status = Command.Status.REJECTED
    command.approved_by = None if isinstance(by, str) else by
    command.decided_at = command.finished_at = timezone.now()
    command.reason = reason[:300]
    command.save()
    _record(command, by, reason=command.reason)
    return command


# --- delivering ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # seconds before the next attempt, when one is due


def command_deliver(*, command_id: int, driver=None) -> Outcome:
    """Send a queued command and record what came back: one attempt, called by the task."""
    with transaction.atomic():
        command = Command.objects.select_for_update().select_related("device").get(pk=command_id)
        if command.status not in (Command.Status.REQUESTED, Command.Status.RETRYING):
            return Outcome(command.status)  # already handled (a duplicate task run)
        command.status = Command.Status.SENT
        command.attempts += 1
        command.sent_at = timezone.now()
        command.save()
        _record(command, SYSTEM)
    device = command.device
    try:
        ack = (driver or driver_for(device)).deliver(
            device.address, device.kind, command.message(),
            timeout=settings.DEVICE_ACK_TIMEOUT_SECONDS, state=device.state,
        )
        problem, unreachable = "L'équipement n'a pas répondu dans le délai.", False
    except drivers.DriverUnavailable as exc:
        ack, problem, unreachable = None, str(exc)[:300], True
    with transaction.atomic():
        command = Command.objects.select_for_update().select_related("device").get(pk=command_id)
        if ack is not None:
            return Outcome(_answered(command, ack))
        last = command.attempts >= settings.DEVICE_COMMAND_MAX_ATTEMPTS
        command.error = problem
        if last:
            command.status = Command.Status.FAILED if unreachable else Command.Status.TIMED_OUT
            command.finished_at = timezone.now()
            command.save()
            _record(command, SYSTEM, error=problem)
            return Outcome(command.status)
        command.status = Command.Status.RETRYING
        command.save()
        delay = settings.DEVICE_RETRY_BACKOFF_SECONDS * 2 ** (command.attempts - 1)
        _record(command, SYSTEM, error=problem, retry_in=delay)
        return Outcome(command.status, retry_in=delay)


def _answered(command: Command, ack: drivers.Ack) -> str:
    now = timezone.now()
    command.status = Command.Status.ACKNOWLEDGED
    command.acknowledged_at = now
    command.save()
    _record(command, SYSTEM)
    command.status = Command.Status.DONE if ack.status == "done" else Command.Status.FAILED
    command.error = ack.error
    command.finished_at = now
    command.save()
    _record(command, SYSTEM, error=ack.error, state=ack.state)
    if ack.state:
        device_report(device=command.device, state=ack.state)
    return command.status


# --- groups ----------------------------------------------------------------------------------
@transaction.atomic
def command_group_request(*, kind: str, action: str, params: dict | None, by,
                          sector=None, incident: Incident | None = None,
                          radius_m: float | None = None, label: str = "") -> CommandGroup:
    """One command to every active device of ``kind`` in a sector or around an incident."""
    require(by, "devices.command_device", "Vous n'avez pas le droit de commander un équipement.")
    try:
        params = capabilities.check_command(kind, action, params)
    except capabilities.CommandRefused as refusal:
        raise ValidationError({refusal.field: [str(refusal)]}) from None
    devices = Device.objects.filter(kind=kind, active=True)
    if sector is not None:
        devices = devices.filter(sector=sector)
        where = sector.name
    elif incident is not None and radius_m:
        if not 10 <= radius_m <= 5000:
            raise ValidationError({"radius_m": ["Le rayon doit être entre 10 et 5 000 m."]})
        devices = [device for device, _distance in selectors.devices_near(
            kind=kind, lat=incident.lat, lon=incident.lon, radius_m=radius_m)]
        where = f"{int(radius_m)} m autour de {incident.reference}"
    else:
        raise ValidationError({"target": ["Choisissez un secteur, ou un incident et un rayon."]})
    devices = list(devices)
    if not devices:
        raise ValidationError({"target": ["Aucun équipement de ce type dans la zone choisie."]})
    spec = capabilities.KINDS[kind]
    group = CommandGroup.objects.create(
        label=label or f"{spec.actions[action].label} · {spec.label} · {where}",
        kind=kind, action=action, params=params, incident=incident,
        requested_by=None if isinstance(by, str) else by, requested_at=timezone.now(),
    )
    journal.record(type="device_group.requested", subject=group, actor=by, payload={
        "group": group.pk, "label": group.label, "kind": kind, "action": action,
        "params": params, "devices": [d.pk for d in devices],
        "incident": incident.pk if incident else None,
    })
    for device in devices:
        command_request(device=device, action=action, params=params, by=by, incident=incident,
                        group=group)
    return group


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
                by=SYSTEM, key=_offline_key(device),
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
        with transaction.atomic():
            if not Device.objects.filter(pk=device.pk, online=True).update(online=False):
                continue
            device.online = False
            journal.record(type="device.offline", subject=device, actor=SYSTEM,
                           payload=_device_payload(device))
            conditions.condition_alert_raise(
                by=SYSTEM, key=_offline_key(device), source=Alert.Source.SENSOR,
                category=Category.objects.get(code="panne_equipement"),
                title=f"Équipement hors ligne : {device.name}", lat=device.lat, lon=device.lon,
                severity=3 if device.spec.is_sensor else 2,
                evidence={"device": device.code, "last_seen_at": device.last_seen_at.isoformat(),
                          "heartbeat_seconds": device.heartbeat_seconds},
            )
            silent += 1
    return silent
