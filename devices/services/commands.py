"""Device commands: their life, approvals, delivery through the drivers, and groups.

    requested → (awaiting_approval → requested) → sent → acknowledged → done
                                                       ↘ retrying → sent …  ↘ failed
    awaiting_approval → rejected;  sent → timed_out when every attempt went unanswered.

Every transition is journaled (``device_command.<status>``) and pushed to the consoles. Sending
runs in Celery (``devices.tasks.send_command``); the database is never locked while a device is
being waited for. A queued command has a deadline (every attempt and the pauses between them):
whatever dies on the way (a task message, a worker), the reconciler (``devices/reconcile.py``)
sends it again or ends it by then, and a command that ends undone raises an alert.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from controlroom import journal
from controlroom.errors import StateConflict
from controlroom.permissions import require
from devices import capabilities, command_alerts, deadlines, drivers, selectors
from devices.drivers.mqtt import MqttDriver
from devices.drivers.simulator import SimulatorDriver
from devices.models import Command, CommandGroup, Device
from devices.services import SYSTEM, device_report

_simulator = None
logger = logging.getLogger(__name__)
NO_ANSWER = "L'équipement n'a pas répondu dans le délai."
NOT_SENT = "La commande n'a pu être envoyée dans le délai (aucun worker disponible)."


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
        "incident_reference": command.incident.reference if command.incident_id else None,
        "incident_title": command.incident.title if command.incident_id else None,
        "group": command.group_id,
        "requested_by": command.requested_by.get_username() if command.requested_by else None,
        "requested_by_name": _person(command.requested_by),
        "request_reason": command.request_reason,
        **extra,
    }


def _person(user) -> str | None:
    """How a person is named on screen: their full name, else their login."""
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _record(command: Command, by, **extra):
    return journal.record(type=f"device_command.{command.status}", subject=command, actor=by,
                          payload=_payload(command, **extra))


# --- queueing ----------------------------------------------------------------------------------
def _start_clock(command: Command, now: datetime) -> None:
    command.deadline = now + timedelta(seconds=deadlines.command_budget())
    command.check_at = now + timedelta(seconds=settings.DEVICE_COMMAND_GRACE_SECONDS)


def _enqueue(command: Command, countdown: float | None = None) -> None:
    """Queue the sending task once the transaction commits. A broker that cannot take it loses
    nothing: the command is in the database and the reconciler queues it again."""
    from devices import tasks

    pk, expires = command.pk, command.deadline

    def send():
        try:
            tasks.send_command.apply_async(args=[pk], countdown=countdown, expires=expires)
        except Exception:
            logger.exception("Command %s could not be queued; the reconciler will retry", pk)

    transaction.on_commit(send)


# --- requesting, approving -------------------------------------------------------------------
@transaction.atomic
def command_request(*, device: Device, action: str, params: dict | None, by,
                    incident=None, group: CommandGroup | None = None, reason: str = ""
                    ) -> Command:
    """Check a command against the device's capabilities and queue it (or hold it for approval).

    Critical commands (bollards, sirens, all-red…) wait for a supervisor other than the requester,
    who decides on the requester's ``reason``: a person must give one.
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
    reason = _request_reason(reason, critical=critical, by=by)
    command = Command(
        device=device, action=action, params=params, critical=critical, incident=incident,
        group=group, requested_at=timezone.now(), request_reason=reason,
        requested_by=None if isinstance(by, str) else by,
        status=Command.Status.AWAITING_APPROVAL if critical else Command.Status.REQUESTED,
    )
    if not critical:
        _start_clock(command, command.requested_at)
    command.save()
    _record(command, by)
    if not critical:
        _enqueue(command)
    return command


def _request_reason(reason: str, *, critical: bool, by) -> str:
    """The requester's reason, cleaned; required of a person asking for a critical command."""
    reason = " ".join((reason or "").split())
    if critical and not reason and not isinstance(by, str):
        raise ValidationError({"reason": [
            "Commande critique : indiquez le motif de la demande, le superviseur en décidera."]})
    if len(reason) > 300:
        raise ValidationError({"reason": ["Le motif ne doit pas dépasser 300 caractères."]})
    return reason


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
    _start_clock(command, command.decided_at)
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
    _record(command, by, reason=command.reason, decided_by_name=_person(command.approved_by))
    return command


# --- delivering ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # seconds before the next attempt, when one is due


def _claimable(command: Command, now: datetime) -> bool:
    """May an attempt start? Queued or waiting for a retry; or sent, but its worker was lost."""
    if command.status in (Command.Status.REQUESTED, Command.Status.RETRYING):
        return True
    return (command.status == Command.Status.SENT and command.check_at is not None
            and command.check_at <= now)


def command_deliver(*, command_id: int, driver=None) -> Outcome:
    """Send a queued command and record what came back: one attempt, called by the task.

    The attempt is claimed under a row lock, so a message delivered twice sends the command once
    at a time; its id travels with it, so a device that hears it twice acts once.
    """
    with transaction.atomic():
        command = (Command.objects.select_for_update().select_related("device")
                   .filter(pk=command_id).first())
        if command is None:
            return Outcome("missing")
        now = timezone.now()
        if not _claimable(command, now):
            return Outcome(command.status)  # already handled (a duplicate task run)
        if command.deadline is not None and command.deadline <= now:
            command_finish(command, Command.Status.TIMED_OUT,
                           NO_ANSWER if command.attempts else NOT_SENT)
            return Outcome(command.status)
        command.status = Command.Status.SENT
        command.attempts += 1
        command.sent_at = now
        command.check_at = now + timedelta(seconds=deadlines.attempt_seconds())
        command.save()
        _record(command, SYSTEM)
    attempt, device = command.attempts, command.device
    try:
        ack = (driver or driver_for(device)).deliver(
            device.address, device.kind, command.message(),
            timeout=settings.DEVICE_ACK_TIMEOUT_SECONDS, state=device.state,
        )
        problem, unreachable = NO_ANSWER, False
    except drivers.DriverUnavailable as exc:
        ack, problem, unreachable = None, str(exc)[:300], True
    with transaction.atomic():
        command = Command.objects.select_for_update().select_related("device").get(pk=command_id)
        if command.status != Command.Status.SENT or command.attempts != attempt:
            # The reconciler took this attempt for lost meanwhile; an answer still counts.
            if ack is not None and not command.is_final:
                return Outcome(_answered(command, ack))
            return Outcome(command.status)
        if ack is not None:
            return Outcome(_answered(command, ack))
        if command.attempts >= settings.DEVICE_COMMAND_MAX_ATTEMPTS:
            command_finish(command, Command.Status.FAILED if unreachable
                           else Command.Status.TIMED_OUT, problem)
            return Outcome(command.status)
        delay = deadlines.backoff(command.attempts)
        command_retry_later(command, error=problem, delay=delay)
        return Outcome(command.status, retry_in=delay)


def command_retry_later(command: Command, *, error: str, delay: float,
                        enqueue: bool = False) -> None:
    """Another attempt in ``delay`` seconds, queued here or by the caller (a task's retry); in
    the row-locking transaction."""
    command.status = Command.Status.RETRYING
    command.error = error[:300]
    command.check_at = timezone.now() + timedelta(
        seconds=delay + settings.DEVICE_COMMAND_GRACE_SECONDS)
    command.save()
    _record(command, SYSTEM, error=command.error, retry_in=delay)
    if enqueue:
        _enqueue(command, countdown=delay or None)


def command_requeue(command: Command) -> None:
    """Queue again a command whose task nobody took (its message was lost); in the row-locking
    transaction."""
    command.check_at = timezone.now() + timedelta(seconds=settings.DEVICE_COMMAND_GRACE_SECONDS)
    command.save(update_fields=["check_at"])
    _record(command, SYSTEM, requeued=True)
    _enqueue(command)


def command_finish(command: Command, status: str, error: str, **extra) -> None:
    """End a command undone (failed, timed out), with an alert; in the row-locking transaction."""
    command.status = status
    command.error = error[:300]
    command.finished_at = timezone.now()
    command.check_at = None
    command.save()
    _record(command, SYSTEM, error=command.error, **extra)
    command_alerts.alert_undone(command, by=SYSTEM)


def _answered(command: Command, ack: drivers.Ack) -> str:
    now = timezone.now()
    command.status = Command.Status.ACKNOWLEDGED
    command.acknowledged_at = now
    command.save()
    _record(command, SYSTEM)
    if ack.status != "done":
        command_finish(command, Command.Status.FAILED, ack.error, state=ack.state)
    else:
        command.status = Command.Status.DONE
        command.error = ack.error
        command.finished_at = now
        command.check_at = None
        command.save()
        _record(command, SYSTEM, error=ack.error, state=ack.state)
    if ack.state:
        device_report(device=command.device, state=ack.state)
    return command.status


# --- groups ----------------------------------------------------------------------------------
@transaction.atomic
def command_group_request(*, kind: str, action: str, params: dict | None, by,
                          sector=None, incident=None,
                          radius_m: float | None = None, label: str = "",
                          reason: str = "") -> CommandGroup:
    """One command to every active device of ``kind`` in a sector or around an incident."""
    require(by, "devices.command_device", "Vous n'avez pas le droit de commander un équipement.")
    try:
        params = capabilities.check_command(kind, action, params)
    except capabilities.CommandRefused as refusal:
        raise ValidationError({refusal.field: [str(refusal)]}) from None
    reason = _request_reason(reason, critical=capabilities.is_critical(kind, action, params),
                             by=by)
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
                        group=group, reason=reason)
    return group
