"""Field units: positions, statuses, and their engagement on incidents."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from controlroom import geo, journal
from controlroom import selectors as zones
from controlroom.errors import StateConflict
from controlroom.permissions import require
from incidents import dispatch
from incidents.models import Assignment, Incident, PartnerSystem, Unit
from incidents.services import procedures
from incidents.services.common import incident_record
from incidents.services.incidents import incident_advance, incident_agency_add

# Positions may come from a little beyond the city (a unit coming back from the hospital).
POSITION_MARGIN_M = 30_000


def _may_act_on_unit(by, unit: Unit, *, partner_scope: str | None = None) -> None:
    """Control-room staff act on every unit; a partner agency, or a partner system holding
    ``partner_scope``, on its own agency's units only."""
    if by is None or isinstance(by, str):
        return
    if isinstance(by, PartnerSystem):
        if partner_scope and by.allows(partner_scope) and by.agency_id == unit.agency_id:
            return
        raise PermissionDenied("Ce système partenaire ne peut pas agir ainsi sur cette unité.")
    if by.has_perm("incidents.dispatch_unit"):
        return
    if by.has_perm("incidents.change_unit") and by.agency_id == unit.agency_id:
        return
    raise PermissionDenied("Vous ne pouvez agir que sur les unités de votre agence.")


def _unit_payload(unit: Unit, **extra) -> dict:
    return {
        "unit": unit.pk, "call_sign": unit.call_sign, "kind": unit.kind, "status": unit.status,
        "lat": unit.lat, "lon": unit.lon, "exercise": unit.exercise_id, **extra,
    }


def _record(unit: Unit, type: str, by, **extra):
    return journal.record(
        type=type, subject=unit, agencies=[unit.agency_id],
        actor=by.actor_label if isinstance(by, PartnerSystem) else by,
        payload=_unit_payload(unit, **extra),
    )


def _check_position(lat, lon) -> tuple[float, float]:
    try:
        lat, lon = geo.check_point(lat, lon)
    except ValueError as exc:
        raise ValidationError({"lat": [str(exc)]}) from None
    city = zones.city_current()
    if city is not None:
        centre = zones.city_centre()
        if geo.distance_m(lat, lon, *centre) > POSITION_MARGIN_M:
            raise ValidationError({"lat": ["Position trop éloignée de la commune."]})
    return lat, lon


@transaction.atomic
def unit_create(*, by, call_sign: str, kind: str, agency, lat=None, lon=None,
                exercise=None) -> Unit:
    require(by, "incidents.add_unit", "Vous n'avez pas le droit de créer une unité.")
    unit = Unit(call_sign=call_sign.strip(), kind=kind, agency=agency, exercise=exercise)
    if lat is not None and lon is not None:
        unit.set_point(*_check_position(lat, lon))
        unit.position_at = timezone.now()
    unit.status_changed_at = timezone.now()
    unit.full_clean()
    unit.save()
    _record(unit, "unit.created", by)
    return unit


@transaction.atomic
def unit_position_report(*, unit: Unit, lat, lon, by, at: datetime | None = None) -> Unit:
    """A position from the field terminal or an AVL feed; older than the last one is ignored."""
    _may_act_on_unit(by, unit, partner_scope=PartnerSystem.Scope.POSITIONS)
    lat, lon = _check_position(lat, lon)
    now = timezone.now()
    at = at or now
    if at > now + timezone.timedelta(minutes=2):
        raise ValidationError({"at": ["L'horodatage de la position est dans le futur."]})
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if unit.position_at and at <= unit.position_at:
        return unit  # out of order: a newer position is already known
    unit.set_point(lat, lon)
    unit.position_at = at
    unit.save(update_fields=["lat", "lon", "h3", "h3_coarse", "position_at"])
    _record(unit, "unit.position", by, at=at)
    return unit


# Statuses a unit reports itself; "en route" comes with an assignment.
REPORTABLE = {Unit.Status.AVAILABLE, Unit.Status.ON_SCENE, Unit.Status.UNAVAILABLE}


@transaction.atomic
def unit_status_set(*, unit: Unit, status: str, by) -> Unit:
    """A unit reports its status. On scene moves its incident on; available releases it."""
    _may_act_on_unit(by, unit)
    if status not in REPORTABLE:
        raise ValidationError({"status": ["État invalide (disponible, sur place ou indisponible)."]})
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    assignment = unit.assignments.filter(released_at=None).select_related("incident").first()
    if status == Unit.Status.ON_SCENE and assignment is None:
        raise StateConflict("Une unité sans engagement ne peut pas être sur place.")
    if unit.status == status:
        return unit
    previous = unit.status
    _set_status(unit, status)
    _record(unit, "unit.status_changed", by, previous=previous,
            incident=assignment.incident_id if assignment else None)
    if assignment is None:
        return unit
    if status == Unit.Status.ON_SCENE:
        assignment.on_scene_at = timezone.now()
        assignment.save(update_fields=["on_scene_at"])
        incident_record(incident=assignment.incident, type="incident.unit_on_scene", by=by,
                        payload={"unit": unit.pk, "call_sign": unit.call_sign})
        incident_advance(incident=assignment.incident, to=Incident.Status.ON_SCENE, by=by)
    else:
        _release(assignment, by, unit_status=None)
    return unit


def _set_status(unit: Unit, status: str) -> None:
    unit.status = status
    unit.status_changed_at = timezone.now()
    unit.save(update_fields=["status", "status_changed_at"])


@transaction.atomic
def unit_assign(*, incident: Incident, unit: Unit, by, step=None) -> Assignment:
    """Engage an available unit on an open incident; the incident moves to dispatched.

    From a dispatch step of its procedure (``step``), that step is done with the unit as its
    evidence; otherwise the pending dispatch steps asking for that kind of unit are."""
    require(by, "incidents.dispatch_unit", "Vous n'avez pas le droit d'engager une unité.")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.is_open:
        raise StateConflict("On n'engage pas d'unité sur un incident terminé.", field="incident")
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if not unit.active or unit.status != Unit.Status.AVAILABLE:
        raise StateConflict(f"L'unité {unit.call_sign} n'est pas disponible.", field="units")
    if unit.exercise_id != incident.exercise_id:
        raise StateConflict("Exercice et réalité ne se mélangent pas : engagez une unité "
                            "de l'exercice sur un incident d'exercice, et réciproquement.",
                            field="units")
    estimate = dispatch.estimate(unit, incident.lat, incident.lon) if unit.has_position else None
    assignment = Assignment.objects.create(
        incident=incident,
        unit=unit,
        assigned_by=by if not isinstance(by, str) else None,
        assigned_at=timezone.now(),
        distance_m=estimate.distance_m if estimate else None,
        eta_seconds=estimate.eta_seconds if estimate else None,
    )
    _set_status(unit, Unit.Status.EN_ROUTE)
    incident_agency_add(incident=incident, agency=unit.agency, by=by)
    incident_record(
        incident=incident, type="incident.unit_assigned", by=by,
        payload={"unit": unit.pk, "call_sign": unit.call_sign, "kind": unit.kind,
                 "assignment": assignment.pk, "distance_m": assignment.distance_m,
                 "eta_seconds": assignment.eta_seconds},
    )
    _record(unit, "unit.status_changed", by, previous=Unit.Status.AVAILABLE, incident=incident.pk)
    incident_advance(incident=incident, to=Incident.Status.DISPATCHED, by=by)
    procedures.steps_complete_for_dispatch(incident=incident, unit=unit, by=by,
                                           assignment=assignment, step=step)
    return assignment


@transaction.atomic
def units_assign(*, incident: Incident, units: list[Unit], by) -> list[Assignment]:
    """Engage several units at once: all of them, or none if one cannot go."""
    if len({unit.pk for unit in units}) != len(units):
        raise ValidationError({"units": ["La même unité figure deux fois."]})
    return [unit_assign(incident=incident, unit=unit, by=by) for unit in units]


def _release(assignment: Assignment, by, *, unit_status: str | None = Unit.Status.AVAILABLE):
    assignment.released_at = timezone.now()
    assignment.save(update_fields=["released_at"])
    unit = assignment.unit
    if unit_status and unit.status != unit_status:
        previous = unit.status
        _set_status(unit, unit_status)
        _record(unit, "unit.status_changed", by, previous=previous, incident=assignment.incident_id)
    incident_record(incident=assignment.incident, type="incident.unit_released", by=by,
                    payload={"unit": unit.pk, "call_sign": unit.call_sign})


@transaction.atomic
def unit_release(*, incident: Incident, unit: Unit, by) -> None:
    """Free a unit from an incident; it becomes available again."""
    require(by, "incidents.dispatch_unit", "Vous n'avez pas le droit de désengager une unité.")
    assignment = (
        Assignment.objects.select_for_update()
        .filter(incident=incident, unit=unit, released_at=None).select_related("unit").first()
    )
    if assignment is None:
        raise StateConflict(f"L'unité {unit.call_sign} n'est pas engagée sur cet incident.",
                            field="unit")
    _release(assignment, by)


def assignments_release_all(*, incident: Incident, by) -> int:
    """When an incident ends, its units become available again."""
    active = list(
        Assignment.objects.select_for_update()
        .filter(incident=incident, released_at=None).select_related("unit", "incident")
    )
    for assignment in active:
        _release(assignment, by)
    return len(active)
