"""The crisis room: opening a crisis, inviting agencies, the shared map, the logbook, decisions
and tasks, closing. Every write is journaled with the invited agencies, so that their liaisons'
pages follow it live, and only while the crisis is open.

Who does what: a supervisor (``incidents.manage_crisis``) opens, links incidents, invites,
decides, gives tasks and closes. Every participant — control-room staff, and the liaisons of an
invited agency while the crisis is open — draws on the map, writes in the logbook and moves the
tasks of their own agency along.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from controlroom import geo, journal
from controlroom import selectors as zones
from controlroom.errors import StateConflict
from controlroom.models import Agency
from controlroom.permissions import require
from incidents.models import Crisis, Drawing, Incident, LogEntry, Task

MANAGE = "incidents.manage_crisis"
TEXT_MAX = 4000
# Drawings may reach a little beyond the city (a perimeter around a border road).
MARGIN_M = 5000


def is_staff(user) -> bool:
    """Control-room staff take part in every crisis."""
    return user.has_perm("incidents.view_all_incidents")


def may_take_part(user, crisis: Crisis) -> bool:
    if user is None or isinstance(user, str):
        return True
    if not user.is_authenticated:
        return False
    if is_staff(user):
        return True
    return (crisis.is_open and user.agency_id is not None
            and crisis.agencies.filter(pk=user.agency_id).exists())


def _participant(user, crisis: Crisis) -> None:
    if not may_take_part(user, crisis):
        raise PermissionDenied("Vous ne participez pas à cette crise.")


def _open(crisis: Crisis) -> Crisis:
    crisis = Crisis.objects.select_for_update().get(pk=crisis.pk)
    if not crisis.is_open:
        raise StateConflict("La crise est close.")
    return crisis


def _record(crisis: Crisis, type: str, by, **payload):
    return journal.record(
        type=type, subject=crisis, actor=by,
        agencies=list(crisis.agencies.values_list("pk", flat=True)),
        payload={"crisis": crisis.pk, "title": crisis.title, **payload},
    )


def _user(by):
    return None if by is None or isinstance(by, str) else by


# --- opening, linking, inviting, closing --------------------------------------------------------
@transaction.atomic
def crisis_open(*, by, kind: str, title: str, area: dict | None = None, incidents=(),
                agencies=()) -> Crisis:
    require(by, MANAGE, "Seul un superviseur ouvre une crise.")
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": ["Donnez un titre à la crise."]})
    if kind not in Crisis.Kind.values:
        raise ValidationError({"kind": ["Type de crise inconnu."]})
    crisis = Crisis(kind=kind, title=title[:200], area=area or None, opened_by=_user(by),
                    opened_at=timezone.now())
    crisis.full_clean()
    crisis.save()
    _record(crisis, "crisis.opened", by, kind=kind, area=crisis.area)
    for incident in incidents:
        crisis_link_incident(crisis=crisis, incident=incident, by=by)
    for agency in agencies:
        crisis_invite(crisis=crisis, agency=agency, by=by)
    return crisis


@transaction.atomic
def crisis_link_incident(*, crisis: Crisis, incident: Incident, by) -> None:
    require(by, MANAGE, "Seul un superviseur conduit la crise.")
    crisis = _open(crisis)
    if crisis.incidents.filter(pk=incident.pk).exists():
        return
    crisis.incidents.add(incident)
    _record(crisis, "crisis.incident_linked", by, incident=incident.pk,
            reference=incident.reference, incident_title=incident.title)


@transaction.atomic
def crisis_invite(*, crisis: Crisis, agency: Agency, by) -> None:
    """The agency's liaisons take part from now on, until the crisis closes."""
    require(by, MANAGE, "Seul un superviseur invite une agence.")
    crisis = _open(crisis)
    if crisis.agencies.filter(pk=agency.pk).exists():
        return
    crisis.agencies.add(agency)
    _record(crisis, "crisis.access_granted", by, agency=agency.pk, agency_name=agency.name)


@transaction.atomic
def crisis_close(*, crisis: Crisis, by, summary: str = "") -> Crisis:
    """Close the crisis: the invited agencies' access ends (journaled), the report is ready."""
    require(by, MANAGE, "Seul un superviseur clôt une crise.")
    crisis = _open(crisis)
    agencies = list(crisis.agencies.all())
    crisis.status = Crisis.Status.CLOSED
    crisis.closed_by = _user(by)
    crisis.closed_at = timezone.now()
    crisis.summary = (summary or "").strip()[:TEXT_MAX]
    crisis.save()
    for agency in agencies:
        _record(crisis, "crisis.access_revoked", by, agency=agency.pk, agency_name=agency.name)
    _record(crisis, "crisis.closed", by, summary=crisis.summary)
    return crisis


# --- the shared map ---------------------------------------------------------------------------
def _checked_geometry(kind: str, geometry) -> dict:
    expected = Drawing.GEOMETRY.get(kind)
    if expected is None:
        raise ValidationError({"kind": ["Type de tracé inconnu."]})
    if not isinstance(geometry, dict) or geometry.get("type") != expected:
        raise ValidationError({"geometry": [f"Ce tracé doit être un {expected} GeoJSON."]})
    coordinates = geometry.get("coordinates")
    points = {"Point": lambda c: [c], "LineString": lambda c: c,
              "Polygon": lambda c: [p for ring in c for p in ring]}[expected]
    try:
        flat = points(coordinates)
        if expected == "Polygon":
            geo.polygon_from_geojson(geometry)
        elif expected == "LineString" and len(flat) < 2:
            raise ValueError("Une voie se trace avec au moins deux points.")
        if not flat or len(flat) > 2000:
            raise ValueError("Tracé vide ou trop détaillé (2 000 points au plus).")
        checked = [geo.check_point(float(lat), float(lon)) for lon, lat, *_ in flat]
    except (TypeError, ValueError) as exc:
        message = str(exc) if isinstance(exc, ValueError) and str(exc) else "Coordonnées invalides."
        raise ValidationError({"geometry": [message]}) from None
    centre = zones.city_centre()
    if centre is not None and any(geo.distance_m(lat, lon, *centre) > 30_000 + MARGIN_M
                                  for lat, lon in checked):
        raise ValidationError({"geometry": ["Le tracé sort des environs de la commune."]})
    return {"type": expected, "coordinates": coordinates}


def _drawing_payload(drawing: Drawing) -> dict:
    return {"drawing": drawing.pk, "kind": drawing.kind, "label": drawing.label,
            "geometry": drawing.geometry}


@transaction.atomic
def drawing_save(*, crisis: Crisis, by, kind: str, geometry, label: str = "",
                 drawing: Drawing | None = None) -> Drawing:
    """Add a shape to the crisis map, or reshape one; every participant sees it at once."""
    _participant(by, crisis)
    crisis = _open(crisis)
    geometry = _checked_geometry(kind, geometry)
    now = timezone.now()
    if drawing is None:
        drawing = Drawing(crisis=crisis, created_by=_user(by), created_at=now)
    elif drawing.crisis_id != crisis.pk or drawing.removed_at is not None:
        raise StateConflict("Ce tracé n'existe plus.", field="drawing")
    drawing.kind, drawing.geometry, drawing.updated_at = kind, geometry, now
    drawing.label = (label or "").strip()[:120]
    drawing.save()
    _record(crisis, "crisis.drawing_saved", by, **_drawing_payload(drawing))
    return drawing


@transaction.atomic
def drawing_remove(*, drawing: Drawing, by) -> None:
    crisis = drawing.crisis
    _participant(by, crisis)
    crisis = _open(crisis)
    if drawing.removed_at is not None:
        return
    drawing.removed_at = timezone.now()
    drawing.save(update_fields=["removed_at"])
    _record(crisis, "crisis.drawing_removed", by, drawing=drawing.pk)


# --- the logbook ------------------------------------------------------------------------------
@transaction.atomic
def log_add(*, crisis: Crisis, by, text: str, corrects: LogEntry | None = None) -> LogEntry:
    """Write in the logbook. Entries stay as written: a correction is a new entry."""
    _participant(by, crisis)
    crisis = _open(crisis)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["L'entrée est vide."]})
    if len(text) > TEXT_MAX:
        raise ValidationError({"text": ["L'entrée dépasse 4 000 caractères."]})
    if corrects is not None and corrects.crisis_id != crisis.pk:
        raise ValidationError({"corrects": ["Cette entrée n'est pas de cette crise."]})
    user = _user(by)
    entry = LogEntry(crisis=crisis, at=timezone.now(), author=user,
                     author_label=user.get_username() if user else str(by or "system"),
                     agency=getattr(user, "agency", None), text=text, corrects=corrects)
    entry.save()
    _record(crisis, "crisis.log_added", by, entry=entry.pk, text=text,
            author=entry.author_label, agency=entry.agency.name if entry.agency else "",
            corrects=corrects.pk if corrects else None)
    return entry


# --- decisions and tasks ----------------------------------------------------------------------
@transaction.atomic
def task_add(*, crisis: Crisis, by, kind: str, title: str, agency: Agency | None = None) -> Task:
    require(by, MANAGE, "Seul un superviseur décide et répartit les tâches.")
    crisis = _open(crisis)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": ["Intitulé manquant."]})
    if kind not in Task.Kind.values:
        raise ValidationError({"kind": ["Décision ou tâche."]})
    now = timezone.now()
    task = Task(crisis=crisis, kind=kind, title=title[:300], agency=agency,
                created_by=_user(by), created_at=now, updated_at=now,
                status=Task.Status.DONE if kind == Task.Kind.DECISION else Task.Status.TODO)
    task.save()
    if agency is not None and not crisis.agencies.filter(pk=agency.pk).exists() \
            and not agency.operates_control_room:
        crisis_invite(crisis=crisis, agency=agency, by=by)
    _record(crisis, "crisis.task_added", by, task=task.pk, kind=kind, text=task.title,
            agency=agency.pk if agency else None, agency_name=agency.name if agency else "",
            status=task.status)
    return task


@transaction.atomic
def task_set_status(*, task: Task, by, status: str) -> Task:
    """Supervisors move any task; a liaison, the tasks of their own agency."""
    crisis = task.crisis
    _participant(by, crisis)
    user = _user(by)
    if user is not None and not user.has_perm(MANAGE) and (
            task.agency_id is None or task.agency_id != user.agency_id):
        raise PermissionDenied("Cette tâche est confiée à une autre agence.")
    if status not in Task.Status.values:
        raise ValidationError({"status": ["État inconnu."]})
    crisis = _open(crisis)
    previous = task.status
    task.status, task.updated_at = status, timezone.now()
    task.save(update_fields=["status", "updated_at"])
    _record(crisis, "crisis.task_updated", by, task=task.pk, text=task.title, status=status,
            previous=previous, agency=task.agency_id)
    return task
