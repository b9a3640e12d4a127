"""What the crisis room shows: the crisis, its map, logbook, tasks and key figures."""

from django.db.models import Q
from django.utils import timezone

from incidents.models import Alert, Assignment, Crisis, Drawing, Incident
from incidents.services.crises import is_staff


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
    from devices.models import PopulationAlert

    until = crisis.closed_at or timezone.now()
    return PopulationAlert.objects.filter(status=PopulationAlert.Status.ISSUED).filter(
        Q(incident__in=crisis.incidents.all()) | Q(sent__gte=crisis.opened_at, sent__lte=until)
    ).distinct().order_by("sent")


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
