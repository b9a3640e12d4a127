"""The alert that tells the operators a device command was not carried out."""

import logging

from django.db import transaction

from devices.models import Command
from incidents import selectors as incident_selectors
from incidents.services import alerts as alert_services

logger = logging.getLogger(__name__)


def alert_undone(command: Command, *, by: str) -> None:
    """The operators learn from their inbox that a command was not carried out: one open alert
    per device, counted again when its commands keep failing."""
    device = command.device
    category = incident_selectors.category_find(code="panne_equipement")
    if category is None:
        logger.error("No category panne_equipement: no alert for command %s", command.pk)
        return
    try:
        with transaction.atomic():
            alert_services.alert_receive(
                by=by, source=incident_selectors.AlertSource.SENSOR, category=category,
                title=f"Commande non exécutée : {device.name}", lat=device.lat, lon=device.lon,
                severity=2 if command.critical or command.incident_id else 3,
                evidence={"device": device.code, "command": str(command.uid),
                          "action": command.action, "status": command.status,
                          "error": command.error, "attempts": command.attempts,
                          "incident": command.incident_id},
                dedup_key=f"device-command:{device.code}",
            )
    except Exception:
        # The command's end is recorded whatever happens to its alert.
        logger.exception("No alert for the undone command %s", command.pk)
