"""After-action reports: what happened on an incident, read from the journal and the tables.

The report gathers the incident's story (its events and those of its alerts), the response
times (alert → acknowledgement → dispatch → on scene → resolution), how the guided procedure
was followed (steps done, skipped with their reason, left out, late), the commands sent to
street devices, the cameras looked at nearby while it lasted (who, how and why), and a map
extract drawn as SVG (the incident, its alerts, the units' tracks and the sectors), so that the
same page prints, and turns into PDF, with nothing fetched from elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from controlroom import events as events_registry
from controlroom import geo
from controlroom.models import Event, Sector
from incidents import replay
from incidents.models import Alert, Incident, ProcedureRun, StepRun, Unit

CAMERA_RADIUS_M = 500
CAMERA_EVENTS = ("camera.live_viewed", "screen.routed", "screen.routing_requested",
                 "video.snapshot_unblurred")


@dataclass(frozen=True)
class Delay:
    label: str
    start: datetime | None
    end: datetime | None

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max(0.0, (self.end - self.start).total_seconds())

    @property
    def text(self) -> str:
        seconds = self.seconds
        if seconds is None:
            return "—"
        minutes, rest = divmod(round(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return f"{hours} h {minutes:02d} min"
        return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def story(incident: Incident) -> list[Event]:
    """The incident's events and those of the alerts attached to it, in journal order."""
    alert_ids = [str(pk) for pk in Alert.objects.filter(incident=incident).values_list(
        "pk", flat=True)]
    return list(Event.objects.filter(
        Q(subject_app="incidents", subject_model="incident", subject_id=str(incident.pk))
        | Q(subject_app="incidents", subject_model="alert", subject_id__in=alert_ids)
    ).order_by("seq"))


def _first(events, type: str, **match) -> datetime | None:
    for event in events:
        if event.type == type and all(event.payload.get(k) == v for k, v in match.items()):
            return event.created_at
    return None


def response_times(incident: Incident, events: list[Event]) -> list[Delay]:
    """Alert → acknowledgement → dispatch → on scene, and in all (to resolution)."""
    alert_events = [e for e in events if e.subject_model == "alert"]
    received = _first(alert_events, "alert.received")
    start = received or _first(events, "incident.created") or incident.created_at
    acknowledged = (_first(alert_events, "alert.acknowledged")
                    or _first(events, "incident.status_changed", to="acknowledged"))
    dispatched = _first(events, "incident.unit_assigned")
    on_scene = _first(events, "incident.unit_on_scene")
    ended = (_first(events, "incident.status_changed", to="resolved")
             or _first(events, "incident.status_changed", to="closed"))
    return [
        Delay(_("Alerte → prise en compte"), start, acknowledged),
        Delay(_("Prise en compte → engagement"), acknowledged, dispatched),
        Delay(_("Engagement → sur place"), dispatched, on_scene),
        Delay(_("Total (jusqu'à la résolution)"), start, ended),
    ]


def compliance(incident: Incident, now: datetime) -> list[dict]:
    """Each procedure run and its steps: done, skipped (and why), left out, late."""
    runs = []
    for run in ProcedureRun.objects.filter(incident=incident).order_by("pk"):
        steps = []
        for step in run.steps.select_related("done_by").order_by("order"):
            deadline = step.deadline_at
            finished = step.status in (StepRun.Status.DONE, StepRun.Status.SKIPPED)
            late = bool(deadline and ((finished and step.done_at and step.done_at > deadline)
                                      or (step.status == StepRun.Status.PENDING
                                          and run.status == ProcedureRun.Status.ACTIVE
                                          and now > deadline)))
            steps.append({"step": step, "late": late,
                          "by": step.done_by.get_username() if step.done_by else "",
                          "evidence": step_evidence(step)})
        counts = {status: sum(1 for s in steps if s["step"].status == status)
                  for status in StepRun.Status.values}
        counts["without_action"] = sum(1 for s in steps
                                       if (s["step"].evidence or {}).get("action") == "none")
        runs.append({"run": run, "steps": steps, "counts": counts,
                     "late": sum(1 for s in steps if s["late"]),
                     "mandatory_missed": sum(1 for s in steps if s["step"].mandatory
                                             and s["step"].status != StepRun.Status.DONE)})
    return runs


def step_evidence(step: StepRun) -> str:
    """What a step that acts did, in words, with the state its action reached since: the unit
    engaged, each command of the group and its final state, the camera shown, the population
    alert drafted and whether it was issued; or why it was done without acting."""
    evidence = step.evidence or {}
    action = evidence.get("action")
    if action == "none":
        return _("Sans action : %(reason)s") % {"reason": evidence.get("reason", "")}
    if action == "unit_assigned":
        kind = dict(Unit.Kind.choices).get(evidence.get("kind"), evidence.get("kind", ""))
        return _("Unité %(call_sign)s engagée (%(kind)s, %(agency)s)") % {
            "call_sign": evidence.get("call_sign", ""), "kind": kind,
            "agency": evidence.get("agency", "")}
    if action == "device_command":
        from devices.models import Command

        states = {c.pk: c for c in Command.objects.filter(
            group_id=evidence.get("command_group")).select_related("device")}
        parts = []
        for item in evidence.get("commands", []):
            command = states.get(item.get("command"))
            state = command.get_status_display() if command else item.get("status", "")
            parts.append(f"{item.get('device_name', item.get('device', ''))} : {state}")
        return _("Commande « %(label)s » (groupe n° %(group)s) — %(states)s") % {
            "label": evidence.get("label", ""), "group": evidence.get("command_group"),
            "states": " ; ".join(parts) or "—"}
    if action == "camera_shown":
        return _("Caméra affichée : %(name)s (%(distance)s m)") % {
            "name": evidence.get("camera_name", evidence.get("camera", "")),
            "distance": evidence.get("distance_m", "—")}
    if action in ("population_alert_drafted", "population_alert_issued"):
        from devices.models import PopulationAlert

        alert = PopulationAlert.objects.filter(pk=evidence.get("population_alert")).first()
        state = (alert.get_status_display() if alert else "—")
        identifier = f" · {alert.identifier}" if alert and alert.identifier else ""
        return _("Alerte à la population « %(headline)s » : %(state)s%(identifier)s") % {
            "headline": evidence.get("headline", ""), "state": state, "identifier": identifier}
    return ""


def commands(incident: Incident) -> list:
    from devices.models import Command

    return list(Command.objects.filter(incident=incident).select_related(
        "device", "requested_by", "approved_by").order_by("requested_at"))


def cameras_viewed(incident: Incident, until: datetime) -> list[dict]:
    """Live views, wall routings and unblurred images of cameras near the incident while it
    lasted: who, when, how, and the reason given when one was required."""
    from video.models import Camera

    near = {}
    for camera in Camera.objects.exclude(lat=None):
        distance = geo.distance_m(incident.lat, incident.lon, camera.lat, camera.lon)
        if distance <= CAMERA_RADIUS_M:
            near[camera.code] = (camera, distance)
    by_pk = {str(camera.pk): code for code, (camera, _d) in near.items()}
    rows = []
    events = Event.objects.filter(type__in=CAMERA_EVENTS, created_at__gte=incident.created_at,
                                  created_at__lte=until).order_by("seq")
    for event in events:
        p = event.payload
        code = p.get("code") if event.type == "camera.live_viewed" else (
            p.get("requested") or p.get("camera"))
        if event.type == "video.snapshot_unblurred":
            code = p.get("camera") or by_pk.get(str(p.get("camera_id")))
        if code not in near:
            continue
        camera, distance = near[code]
        rows.append({"time": event.created_at, "who": event.actor_label, "camera": camera.name,
                     "distance_m": round(distance), "how": event.type,
                     "why": p.get("reason") or p.get("where") or ""})
    return rows


def _projection(lat0: float, lon0: float):
    scale = math.cos(math.radians(lat0))

    def xy(lat, lon):
        return (round((lon - lon0) * 111_320 * scale), round((lat0 - lat) * 110_540))

    return xy


def map_extract(incident: Incident, events: list[Event], until: datetime) -> dict:
    """An SVG map around the incident: sectors, alerts, the engaged units' tracks."""
    points = [(incident.lat, incident.lon)]
    alerts = [(a.lat, a.lon, a.title) for a in Alert.objects.filter(incident=incident)]
    points += [(lat, lon) for lat, lon, _t in alerts]
    units = {e.payload["unit"]: e.payload.get("call_sign", "")
             for e in events if e.type == "incident.unit_assigned"}
    tracks = {unit: [] for unit in units}
    if units:
        positions = Event.objects.filter(
            subject_app="incidents", subject_model="unit",
            subject_id__in=[str(u) for u in units],
            created_at__gte=incident.created_at - timedelta(minutes=5), created_at__lte=until,
        ).order_by("seq").values_list("subject_id", "payload")
        for unit, payload in positions:
            if payload.get("lat") is not None:
                tracks[int(unit)].append((payload["lat"], payload["lon"]))
    points += [point for track in tracks.values() for point in track]

    xy = _projection(incident.lat, incident.lon)
    projected = [xy(lat, lon) for lat, lon in points]
    half = max(400.0, *(max(abs(x), abs(y)) * 1.15 for x, y in projected))
    sectors = []
    for sector in Sector.objects.all():
        try:
            polygon = geo.polygon_from_geojson(sector.geometry)
        except ValueError:
            continue
        for part in getattr(polygon, "geoms", [polygon]):
            ring = " ".join(f"{x:.0f},{y:.0f}" for x, y in
                            (xy(lat, lon) for lon, lat in part.exterior.coords))
            sectors.append({"points": ring, "name": sector.name})
    return {
        "view": f"{-half:.0f} {-half:.0f} {2 * half:.0f} {2 * half:.0f}",
        "stroke": round(half / 150, 1), "radius": round(half / 40, 1),
        "font": round(half / 18),
        "sectors": sectors,
        "alerts": [{"x": xy(lat, lon)[0], "y": xy(lat, lon)[1], "title": title}
                   for lat, lon, title in alerts],
        "tracks": [{"call_sign": units[unit],
                    "points": " ".join(f"{x:.0f},{y:.0f}" for x, y in
                                       (xy(lat, lon) for lat, lon in track)),
                    "end": xy(*track[-1])}
                   for unit, track in tracks.items() if track],
    }


def incident_report(incident: Incident, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    events = story(incident)
    until = incident.closed_at or now
    return {
        "incident": incident,
        "generated_at": now,
        "delays": response_times(incident, events),
        "runs": compliance(incident, now),
        "commands": commands(incident),
        "cameras": cameras_viewed(incident, until),
        "timeline": [{"event": e, "label": events_registry.label(e.type),
                      "summary": replay.summary(e.type, e.payload)} for e in events],
        "map": map_extract(incident, events, until),
        "camera_radius_m": CAMERA_RADIUS_M,
    }


# --- crises -----------------------------------------------------------------------------------
def crisis_map(crisis) -> dict:
    """The crisis area, its drawings and incidents, as SVG shapes (metres around the centre)."""
    incidents = list(crisis.incidents.all())
    drawings = list(crisis.drawings.filter(removed_at=None))
    points = [(i.lat, i.lon) for i in incidents]
    rings = []
    if crisis.area:
        rings.append(("area", "", geo.polygon_from_geojson(crisis.area).exterior.coords))
    for d in drawings:
        coords = d.geometry["coordinates"]
        if d.geometry["type"] == "Polygon":
            rings.append((d.kind, d.label, coords[0]))
        elif d.geometry["type"] == "LineString":
            rings.append((d.kind, d.label, coords))
        else:
            rings.append((d.kind, d.label, [coords]))
    for _kind, _label, coords in rings:
        points += [(lat, lon) for lon, lat, *_ in coords]
    if not points:
        return {}
    lat0 = sum(p[0] for p in points) / len(points)
    lon0 = sum(p[1] for p in points) / len(points)
    xy = _projection(lat0, lon0)
    half = max(400, *(max(abs(v) for v in xy(lat, lon)) * 1.15 for lat, lon in points))
    shapes = []
    for kind, label, coords in rings:
        projected = [xy(lat, lon) for lon, lat, *_ in coords]
        shapes.append({"kind": kind, "label": label, "single": len(projected) == 1,
                       "x": projected[0][0], "y": projected[0][1],
                       "points": " ".join(f"{x},{y}" for x, y in projected),
                       "closed": kind in ("area", "perimeter", "evacuation_zone")})
    return {"view": f"{-half} {-half} {2 * half} {2 * half}", "stroke": round(half / 150, 1),
            "radius": round(half / 40, 1), "font": round(half / 18), "shapes": shapes,
            "incidents": [{"x": xy(i.lat, i.lon)[0], "y": xy(i.lat, i.lon)[1],
                           "reference": i.reference} for i in incidents]}


def crisis_report(crisis, *, now: datetime | None = None) -> dict:
    from incidents.selectors import figures, population_alerts

    now = now or timezone.now()
    incidents = []
    for incident in crisis.incidents.select_related("category").order_by("pk"):
        delays = response_times(incident, story(incident))
        incidents.append({"incident": incident, "delays": delays})
    events = Event.objects.filter(subject_app="incidents", subject_model="crisis",
                                  subject_id=str(crisis.pk)).order_by("seq")
    return {
        "crisis": crisis, "generated_at": now, "incidents": incidents,
        "log": list(crisis.log.select_related("agency", "corrects")),
        "tasks": list(crisis.tasks.select_related("agency")),
        "drawings": list(crisis.drawings.filter(removed_at=None)),
        "population_alerts": list(population_alerts(crisis)),
        "figures": figures(crisis),
        "timeline": [{"event": e, "label": events_registry.label(e.type),
                      "summary": replay.summary(e.type, e.payload)} for e in events],
        "map": crisis_map(crisis),
    }
