"""Incidents: creation, changes, the life cycle, notes and the agencies taking part."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from controlroom import selectors as zones
from controlroom.errors import StateConflict
from controlroom.models import Agency
from controlroom.permissions import require
from controlroom.points import checked_point
from incidents import lifecycle
from incidents.models import Category, Incident
from incidents.services import procedures
from incidents.services.common import incident_record
from incidents.taxonomy import TAXONOMY

EDITABLE_FIELDS = ("title", "description", "address", "priority", "category", "lat", "lon")


def category_ensure_defaults() -> int:
    """Create the default taxonomy's missing categories; existing ones are left as edited."""
    created = 0
    for code, label, domain, priority, unit_kinds in TAXONOMY:
        _category, was_created = Category.objects.get_or_create(
            code=code,
            defaults={
                "label": label, "domain": domain, "default_priority": priority,
                "unit_kinds": unit_kinds,
            },
        )
        created += was_created
    return created


def category_for(code: str) -> Category:
    """The category of ``code``, creating the default taxonomy's if it is missing."""
    category = Category.objects.filter(code=code).first()
    if category is None:
        category_ensure_defaults()
        category = Category.objects.get(code=code)
    return category


def _permissions(by) -> set[str]:
    if by is None or isinstance(by, str):
        return {lifecycle.HANDLE, lifecycle.SUPERVISE}
    return by.get_all_permissions()


def _snapshot(incident: Incident) -> dict:
    return {
        "title": incident.title,
        "category": incident.category.code,
        "priority": incident.priority,
        "status": incident.status,
        "lat": incident.lat,
        "lon": incident.lon,
        "sector": incident.sector_id,
        "address": incident.address,
    }


def _own_agencies():
    return Agency.objects.filter(operates_control_room=True)


@transaction.atomic
def incident_create(
    *,
    by,
    category: Category,
    title: str,
    lat: float,
    lon: float,
    priority: int | None = None,
    description: str = "",
    address: str = "",
    agencies=(),
    exercise=None,
) -> Incident:
    """Open an incident; the category's guided procedure starts at once."""
    require(by, "incidents.add_incident", "Vous n'avez pas le droit de créer un incident.")
    if not category.active:
        raise ValidationError({"category": ["Cette catégorie n'est plus utilisée."]})
    lat, lon = checked_point(lat, lon)
    now = timezone.now()
    incident = Incident(
        category=category,
        priority=priority or category.default_priority,
        title=title.strip(),
        description=description,
        address=address,
        created_by=by if not isinstance(by, str) else None,
        created_at=now,
        status_changed_at=now,
        exercise=exercise,
    )
    incident.set_point(lat, lon)
    incident.sector = zones.sector_at(lat=lat, lon=lon)
    incident.full_clean()
    incident.save()
    incident.agencies.add(*_own_agencies(), *agencies)
    incident_record(incident=incident, type="incident.created", by=by,
                    payload={**_snapshot(incident), "exercise": incident.exercise_id})
    procedures.run_start(incident=incident, by=by)
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, by, **changes) -> Incident:
    """Change what is known of an open incident. A new category restarts its procedure."""
    require(by, "incidents.change_incident", "Vous n'avez pas le droit de modifier cet incident.")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.is_open and incident.status != Incident.Status.RESOLVED:
        raise StateConflict("Un incident clos ou annulé ne se modifie plus.")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["Ce champ ne se modifie pas ainsi."] for name in unknown})
    before = _snapshot(incident)
    old_category = incident.category_id
    if "lat" in changes or "lon" in changes:
        lat, lon = checked_point(changes.pop("lat", incident.lat), changes.pop("lon", incident.lon))
        incident.set_point(lat, lon)
        incident.sector = zones.sector_at(lat=lat, lon=lon)
    for name, value in changes.items():
        setattr(incident, name, value.strip() if name == "title" else value)
    incident.full_clean()
    incident.save()
    after = _snapshot(incident)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if not changed:
        return incident
    incident_record(incident=incident, type="incident.updated", by=by, payload={"changes": changed})
    if incident.category_id != old_category and incident.is_open:
        procedures.run_start(incident=incident, by=by)
    return incident


@transaction.atomic
def incident_transition(
    *, incident: Incident, to: str, by, reason: str = "", automatic: bool = False
) -> Incident:
    """Move an incident along its life cycle, if the state machine and the actor allow it.

    ``automatic`` transitions follow from another authorised action (a unit arriving).
    """
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    source = incident.status
    permissions = _permissions(None if automatic else by)
    try:
        lifecycle.check(source, to, permissions=permissions, reason=reason)
    except lifecycle.TransitionRefused as refused:
        if refused.forbidden:
            raise PermissionDenied(refused.message) from None
        raise StateConflict(refused.message) from None
    _apply(incident, to, reason)
    incident_record(
        incident=incident,
        type="incident.status_changed",
        by=by,
        payload={"from": source, "to": to, "reason": reason, "automatic": automatic},
    )
    _after_transition(incident, source, to, by)
    return incident


def _apply(incident: Incident, to: str, reason: str) -> None:
    now = timezone.now()
    incident.status = to
    incident.status_changed_at = now
    if to == Incident.Status.ACKNOWLEDGED and incident.acknowledged_at is None:
        incident.acknowledged_at = now
    if to == Incident.Status.RESOLVED:
        incident.resolved_at = now
    if to == Incident.Status.CLOSED:
        incident.closed_at = now
    if to == Incident.Status.CANCELLED:
        incident.cancel_reason = reason.strip()[:255]
    incident.save()


def _after_transition(incident: Incident, source: str, to: str, by) -> None:
    from incidents.services import units  # units depend on incidents: import late

    if to in (Incident.Status.RESOLVED, Incident.Status.CANCELLED):
        units.assignments_release_all(incident=incident, by=by)
    if to == Incident.Status.CLOSED:
        procedures.run_finish_for_incident(incident=incident, status="completed", by=by)
    elif to == Incident.Status.CANCELLED:
        procedures.run_finish_for_incident(incident=incident, status="cancelled", by=by)


def incident_advance(*, incident: Incident, to: str, by) -> Incident:
    """Move forward automatically (a unit engaged, a unit on scene) when the incident is behind;
    each intermediate state is journaled. Permission came with the action that caused it."""
    following = {
        Incident.Status.NEW: Incident.Status.ACKNOWLEDGED,
        Incident.Status.ACKNOWLEDGED: Incident.Status.DISPATCHED,
        Incident.Status.DISPATCHED: Incident.Status.ON_SCENE,
    }
    order = list(following) + [Incident.Status.ON_SCENE]
    incident.refresh_from_db()
    while incident.status in following and order.index(incident.status) < order.index(to):
        incident = incident_transition(
            incident=incident, to=following[incident.status], by=by, automatic=True
        )
    return incident


@transaction.atomic
def incident_note_add(*, incident: Incident, by, text: str):
    """Add a note to the incident's timeline. Liaisons may write on incidents of their agency."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["La note est vide."]})
    if len(text) > 4000:
        raise ValidationError({"text": ["La note dépasse 4 000 caractères."]})
    if not isinstance(by, str) and by is not None:
        from incidents import selectors

        if not selectors.incidents_visible_to(user=by).filter(pk=incident.pk).exists():
            raise PermissionDenied("Vous ne participez pas à cet incident.")
        require(by, "incidents.view_incident", "Vous n'avez pas accès aux incidents.")
    return incident_record(incident=incident, type="incident.note_added", by=by, payload={"text": text})


@transaction.atomic
def incident_agency_add(*, incident: Incident, agency: Agency, by):
    """Involve a partner agency: from now on its liaisons see the incident and its story."""
    require(by, "incidents.change_incident", "Vous n'avez pas le droit de modifier cet incident.")
    if incident.agencies.filter(pk=agency.pk).exists():
        return None
    incident.agencies.add(agency)
    return incident_record(
        incident=incident,
        type="incident.agency_added",
        by=by,
        payload={"agency": agency.pk, "agency_name": agency.name},
    )
