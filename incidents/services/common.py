"""What every incidents service shares: journaling an incident's story."""

from controlroom import journal
from incidents.models import Incident


def incident_agency_ids(incident: Incident) -> list[int]:
    return sorted(incident.agencies.values_list("pk", flat=True))


def incident_record(*, incident: Incident, type: str, by, payload: dict | None = None):
    """Journal an event in the incident's story: its subject is the incident, so the timeline
    is one indexed read, and the agencies taking part see it."""
    body = {"incident": incident.pk, "reference": incident.reference, **(payload or {})}
    return journal.record(
        type=type,
        subject=incident,
        actor=by,
        agencies=incident_agency_ids(incident),
        payload=body,
    )
