"""Reads of alerts, incidents, units, procedures and crises. Agency scoping is enforced here, so
no view forgets it."""

from dataclasses import dataclass
from datetime import datetime

import h3
from django.db.models import QuerySet
from django.utils import timezone

from controlroom import geo
from controlroom import selectors as journal_reads
from controlroom.models import Event
from incidents import dispatch
from incidents.models import (
    Alert,
    Assignment,
    Category,
    Crisis,
    Drawing,
    Incident,
    ProcedureRun,
    StepRun,
    Unit,
)
from incidents.models.procedures import StepKind as StepKind
from incidents.models.units import COARSE_RESOLUTION
from incidents.services.crises import is_staff

# The vocabulary the other apps use when they raise alerts (through the alert services) and read
# procedure steps: they name these, never incidents' models.
AlertSource = Alert.Source
ALERT_OPEN_STATUSES = Alert.OPEN_STATUSES


def category_get(*, code: str) -> Category:
    """The alert category with this code; Category.DoesNotExist if there is none."""
    return Category.objects.get(code=code)


def category_find(*, code: str) -> Category | None:
    """The alert category with this code, or None."""
    return Category.objects.filter(code=code).first()


def category_codes() -> set[str]:
    """The codes of every alert category."""
    return set(Category.objects.values_list("code", flat=True))


def category_labels() -> dict[str, str]:
    """Every category's label by code, in the current language when the catalogue knows it (the
    default taxonomy's labels are in it; labels edited in the admin show as written)."""
    from django.utils.translation import gettext

    return {code: gettext(label) for code, label in
            Category.objects.values_list("code", "label")}


def step_run_find(*, step_id) -> StepRun | None:
    """A procedure step with its run and incident, or None (no visibility check: the caller's)."""
    return StepRun.objects.select_related("run__incident").filter(pk=step_id).first()


def incidents_created_between(*, start: datetime, end: datetime) -> QuerySet[Incident]:
    """Real incidents (exercises left out) created in [start, end), for statistics."""
    return Incident.objects.filter(exercise=None, created_at__gte=start, created_at__lt=end)


def _is_user(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active


def incidents_visible_to(*, user) -> QuerySet[Incident]:
    """Control-room staff see every incident; a liaison those their agency takes part in."""
    if not _is_user(user) or not user.has_perm("incidents.view_incident"):
        return Incident.objects.none()
    incidents = Incident.objects.select_related("category", "sector")
    if user.has_perm("incidents.view_all_incidents"):
        return incidents
    if user.agency_id is None:
        return Incident.objects.none()
    return incidents.filter(agencies=user.agency_id)


def incidents_rule(user):
    """For the journal: the incidents whose events the user may read (None: all of them)."""
    if _is_user(user) and user.has_perm("incidents.view_all_incidents"):
        return None
    return incidents_visible_to(user=user)


def alerts_visible_to(*, user) -> QuerySet[Alert]:
    """The inbox belongs to the control room: partner liaisons do not see it."""
    if not _is_user(user) or not user.has_perm("incidents.view_alert"):
        return Alert.objects.none()
    return Alert.objects.select_related("category", "sector", "incident", "acknowledged_by")


def units_visible_to(*, user) -> QuerySet[Unit]:
    if not _is_user(user) or not user.has_perm("incidents.view_unit"):
        return Unit.objects.none()
    units = Unit.objects.select_related("agency")
    if user.has_perm("incidents.view_all_incidents"):
        return units
    return units.filter(agency=user.agency_id)


def units_of_partner(*, partner) -> QuerySet[Unit]:
    """A partner system (an AVL feed) reaches its own agency's units only."""
    return Unit.objects.select_related("agency").filter(agency=partner.agency_id)


def incident_timeline(*, incident: Incident, user) -> QuerySet[Event]:
    """The incident's story, from the journal, as far as the user may see it."""
    viewer = journal_reads.viewer_for(user)
    return journal_reads.events_visible_to(viewer=viewer).filter(
        subject_app="incidents", subject_model="incident", subject_id=str(incident.pk)
    )


@dataclass(frozen=True)
class Suggestion:
    unit: Unit
    distance_m: float | None  # None: the unit has no known position
    eta_seconds: float | None


# Rings of coarse cells (~1.2 km) searched in turn before looking at every unit.
_RINGS = (1, 3, 6)


def units_nearest(
    *, lat: float, lon: float, kinds: list[str] | None = None, limit: int = 5,
    exercise=None,
) -> list[Suggestion]:
    """The available units nearest to a point by estimated travel time.

    Units in H3 rings around the point are read first; wider rings only if too few are found.
    """
    lat, lon = geo.check_point(lat, lon)
    available = Unit.objects.filter(
        active=True, status=Unit.Status.AVAILABLE, lat__isnull=False, lon__isnull=False,
        exercise=exercise,  # an exercise's own units answer its incidents, and only those
    ).select_related("agency")
    if kinds:
        available = available.filter(kind__in=kinds)
    centre = h3.latlng_to_cell(lat, lon, COARSE_RESOLUTION)
    candidates: list[Unit] = []
    for k in _RINGS:
        candidates = list(available.filter(h3_coarse__in=h3.grid_disk(centre, k)))
        if len(candidates) >= limit:
            break
    else:
        candidates = list(available)
    ranked = []
    for unit in candidates:
        estimate = dispatch.estimate(unit, lat, lon)
        ranked.append(Suggestion(unit, estimate.distance_m, estimate.eta_seconds))
    ranked.sort(key=lambda s: (s.eta_seconds, s.unit.call_sign))
    return ranked[:limit]


def dispatch_step_pending(incident: Incident, *, step_id: int | None = None) -> StepRun | None:
    """The pending dispatch step of the incident's procedure in progress that suggestions
    follow: the one named, or the first by order."""
    steps = StepRun.objects.filter(
        run__incident=incident, run__status=ProcedureRun.Status.ACTIVE,
        status=StepRun.Status.PENDING, kind=StepKind.DISPATCH,
    ).order_by("order")
    if step_id is not None:
        steps = steps.filter(pk=step_id)
    return steps.first()


def incident_suggestions(*, incident: Incident, limit: int = 5,
                         step: StepRun | None = None) -> list[Suggestion]:
    """Nearest available units for the incident.

    While a dispatch step of its procedure naming a unit kind is pending (``step``, or the first
    such), the units of that kind only, nearest first: "Engager une ambulance" offers
    ambulances, and none other (any other unit is found by search). Otherwise the kinds the
    category calls for (any kind if none fit).
    """
    if step is None:
        step = dispatch_step_pending(incident)
    step_kind = (step.params or {}).get("unit_kind") if step is not None else None
    if step_kind:
        return units_nearest(lat=incident.lat, lon=incident.lon, kinds=[step_kind], limit=limit,
                             exercise=incident.exercise_id)
    kinds = incident.category.unit_kinds or None
    found = units_nearest(lat=incident.lat, lon=incident.lon, kinds=kinds, limit=limit,
                          exercise=incident.exercise_id)
    return found or units_nearest(lat=incident.lat, lon=incident.lon, limit=limit,
                                  exercise=incident.exercise_id)


UNIT_SEARCH_MAX_LENGTH = 60


def units_available_search(*, incident: Incident, query: str = "",
                           limit: int = 20) -> list[Suggestion]:
    """Any available unit that may answer the incident, whose call sign, kind (code or label)
    or agency (code or name) contains every word of ``query``; nearest first, units without a
    position last."""
    from django.db.models import Q

    units = Unit.objects.filter(active=True, status=Unit.Status.AVAILABLE,
                                exercise=incident.exercise_id).select_related("agency")
    labels = {code: str(label).lower() for code, label in Unit.Kind.choices}
    for word in (query or "").lower().split()[:6]:
        kinds = [code for code, label in labels.items() if word in label or word in code]
        units = units.filter(Q(call_sign__icontains=word) | Q(kind__in=kinds)
                             | Q(agency__name__icontains=word) | Q(agency__code__icontains=word))
    ranked = []
    for unit in units:
        if unit.has_position:
            estimate = dispatch.estimate(unit, incident.lat, incident.lon)
            ranked.append(Suggestion(unit, estimate.distance_m, estimate.eta_seconds))
        else:
            ranked.append(Suggestion(unit, None, None))
    ranked.sort(key=lambda s: (s.eta_seconds is None, s.eta_seconds or 0, s.unit.call_sign))
    return ranked[:limit]


# --- guided procedures ---------------------------------------------------------------------------
def active_run(incident: Incident) -> ProcedureRun | None:
    """The incident's procedure in progress, if any (at most one, by a database constraint)."""
    return (
        ProcedureRun.objects.filter(incident=incident, status=ProcedureRun.Status.ACTIVE)
        .prefetch_related("steps")
        .first()
    )


def run_progress(run: ProcedureRun, *, now: datetime | None = None) -> dict:
    """Figures for a progress bar.

    ``done`` counts steps done or skipped; ``total`` every step but those a question's answer
    left out (bypassed); ``overdue`` the pending mandatory steps past their deadline;
    ``next_step`` the key of the first pending step by order, while the run is active.
    Uses ``run.steps`` as prefetched when it is.
    """
    now = now or timezone.now()
    steps = sorted(run.steps.all(), key=lambda step: step.order)
    pending = [step for step in steps if step.status == StepRun.Status.PENDING]
    finished = (StepRun.Status.DONE, StepRun.Status.SKIPPED)
    return {
        "done": sum(1 for step in steps if step.status in finished),
        "total": sum(1 for step in steps if step.status != StepRun.Status.BYPASSED),
        "overdue": sum(
            1 for step in pending
            if step.mandatory and step.deadline_at is not None and step.deadline_at < now
        ),
        "next_step": (
            pending[0].key if pending and run.status == ProcedureRun.Status.ACTIVE else None
        ),
    }


# --- the crisis room ------------------------------------------------------------------------------
def crises_visible_to(user):
    """Staff see every crisis; a liaison, the open crises their agency is invited to."""
    crises = Crisis.objects.all()
    if is_staff(user):
        return crises
    if user.agency_id is None:
        return crises.none()
    return crises.filter(status=Crisis.Status.OPEN, agencies=user.agency_id)


def crises_rule(user):
    """For the journal: the crises whose events the user may read (None: all of them)."""
    return None if is_staff(user) else crises_visible_to(user)


def drawing_feature(drawing: Drawing) -> dict:
    return {"type": "Feature", "id": drawing.pk, "geometry": drawing.geometry,
            "properties": {"id": drawing.pk, "kind": drawing.kind, "label": drawing.label,
                           "kind_label": drawing.get_kind_display()}}


def population_alerts(crisis: Crisis):
    from devices import selectors as devices_selectors

    return devices_selectors.population_alerts_issued(
        incidents=crisis.incidents.all(), since=crisis.opened_at,
        until=crisis.closed_at or timezone.now())


def figures(crisis: Crisis) -> dict:
    """The key figures of the room, read afresh each time."""
    incidents = crisis.incidents.all()
    open_alerts = 0
    if crisis.area:
        from controlroom.geo import PreparedArea

        area = PreparedArea(crisis.area)
        open_alerts = sum(1 for lat, lon in Alert.objects.filter(
            status__in=Alert.OPEN_STATUSES).values_list("lat", "lon") if area.contains(lat, lon))
    tasks = crisis.tasks.filter(kind="task")
    return {
        "incidents_open": incidents.filter(status__in=Incident.OPEN_STATUSES).count(),
        "incidents": incidents.count(),
        "units_engaged": Assignment.objects.filter(incident__in=incidents,
                                                   released_at=None).count(),
        "alerts_in_area": open_alerts,
        "population_alerts": population_alerts(crisis).count(),
        "tasks_open": tasks.exclude(status__in=["done", "cancelled"]).count(),
        "tasks": tasks.count(),
        "log_entries": crisis.log.count(),
    }


def crisis_detail(crisis: Crisis) -> dict:
    return {
        "id": crisis.pk, "kind": crisis.kind, "kind_label": crisis.get_kind_display(),
        "title": crisis.title, "status": crisis.status, "area": crisis.area,
        "opened_at": crisis.opened_at, "closed_at": crisis.closed_at, "summary": crisis.summary,
        "agencies": [{"id": a.pk, "name": a.name} for a in crisis.agencies.order_by("name")],
        "incidents": [
            {"id": i.pk, "reference": i.reference, "title": i.title, "status": i.status,
             "priority": i.priority, "lat": i.lat, "lon": i.lon}
            for i in crisis.incidents.order_by("pk")],
        "drawings": {"type": "FeatureCollection", "features": [
            drawing_feature(d) for d in crisis.drawings.filter(removed_at=None)]},
        "log": [{"id": e.pk, "at": e.at, "author": e.author_label,
                 "agency": e.agency.name if e.agency else "", "text": e.text,
                 "corrects": e.corrects_id} for e in crisis.log.select_related("agency")],
        "tasks": [{"id": t.pk, "kind": t.kind, "title": t.title, "status": t.status,
                   "agency": t.agency_id, "agency_name": t.agency.name if t.agency else ""}
                  for t in crisis.tasks.select_related("agency")],
        "population_alerts": [{"id": p.pk, "headline": p.headline, "area": p.area_name,
                               "sent": p.sent} for p in population_alerts(crisis)],
        "figures": figures(crisis),
    }
