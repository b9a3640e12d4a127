"""Procedure steps of kind "device command": the concrete command proposed on the devices
nearest the incident, which the operator confirms (then the step is done).

A step's settings name the device kind, the action and its parameters, e.g.
``{device_kind: street_light, command: set_level, params: {level: 100}, radius_m: 300}``.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from devices import capabilities, selectors
from devices.models import CommandGroup, Device
from devices.services import commands as command_services
from incidents import selectors as incident_selectors
from incidents.services import procedures as procedure_services

MAX_DEVICES = 20


@dataclass(frozen=True)
class Proposal:
    step: object  # the procedure step (incidents)
    kind: str
    action: str
    params: dict
    radius_m: float
    critical: bool
    devices: list[tuple[Device, float]]  # (device, distance in metres), nearest first

    def as_dict(self) -> dict:
        spec = capabilities.KINDS[self.kind]
        return {
            "step": self.step.pk, "incident": self.step.run.incident_id,
            "device_kind": self.kind, "kind_label": gettext(spec.label), "action": self.action,
            "action_label": gettext(spec.actions[self.action].label), "params": self.params,
            "radius_m": self.radius_m, "critical": self.critical,
            "devices": [{"id": d.pk, "code": d.code, "name": d.name, "online": d.online,
                         "distance_m": round(distance)} for d, distance in self.devices],
        }


def step_proposal(*, step) -> Proposal:
    if step.kind != incident_selectors.StepKind.DEVICE_COMMAND:
        raise ValidationError({"step": ["Cette étape ne commande pas d'équipement."]})
    try:
        kind, action, params, radius = capabilities.step_command(step.params or {})
    except ValueError as exc:
        raise ValidationError({"step": [f"Étape mal paramétrée : {exc}"]}) from None
    incident = step.run.incident
    nearby = selectors.devices_near(kind=kind, lat=incident.lat, lon=incident.lon,
                                    radius_m=radius)
    return Proposal(step=step, kind=kind, action=action, params=params, radius_m=radius,
                    critical=capabilities.is_critical(kind, action, params),
                    devices=nearby[:MAX_DEVICES])


@transaction.atomic
def step_proposal_confirm(*, step, by, reason: str = "") -> CommandGroup:
    """Send the proposed command to the devices around the incident and mark the step done.

    A critical command needs the requester's ``reason`` (a supervisor approves each device's)."""
    proposal = step_proposal(step=step)
    if not proposal.devices:
        raise ValidationError({"step": ["Aucun équipement de ce type à proximité de l'incident."]})
    group = command_services.command_group_request(
        kind=proposal.kind, action=proposal.action, params=proposal.params, by=by,
        incident=step.run.incident, radius_m=proposal.radius_m, reason=reason,
    )
    commands = list(group.commands.select_related("device").order_by("pk"))
    procedure_services.step_complete(
        step=step, by=by,
        note=f"{group.label} : {len(commands)} équipement(s), commande groupée n° {group.pk}.",
        evidence={
            "action": "device_command", "command_group": group.pk, "label": group.label,
            "device_kind": proposal.kind, "command": proposal.action,
            "critical": proposal.critical,
            "commands": [{"command": c.pk, "device": c.device.code,
                          "device_name": c.device.name, "status": c.status}
                         for c in commands],
        },
    )
    return group
