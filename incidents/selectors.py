"""Reads of alerts, incidents and units. Agency scoping is enforced here, so no view forgets it."""

from dataclasses import dataclass

import h3
from django.db.models import QuerySet

from controlroom import geo
from controlroom import selectors as journal_reads
from controlroom.models import Event
from incidents import dispatch
from incidents.models import Alert, Incident, Unit
from incidents.models.units import COARSE_RESOLUTION


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
    distance_m: float
    eta_seconds: float


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


def incident_suggestions(*, incident: Incident, limit: int = 5) -> list[Suggestion]:
    """Nearest available units of the kinds the category calls for (any kind if none fit)."""
    kinds = incident.category.unit_kinds or None
    found = units_nearest(lat=incident.lat, lon=incident.lon, kinds=kinds, limit=limit,
                          exercise=incident.exercise_id)
    return found or units_nearest(lat=incident.lat, lon=incident.lon, limit=limit,
                                  exercise=incident.exercise_id)
