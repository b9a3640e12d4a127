"""Replay: what the console showed at any instant, rebuilt from the journal alone.

The console's picture is reduced from the journal, event after event, by ``apply``: open
alerts, incidents (open, or resolved and not yet closed) with their units, attached alerts and
procedure progress, units, devices, cameras, what each wall screen shows and open citizen
reports. The state is plain JSON (ids as text keys) and bounded: alerts, incidents and reports
leave it when they are closed, so its size follows what is open, not the journal's length.

``state_at`` starts from the nearest checkpoint (the state saved every ``CHECKPOINT_EVERY``
events by ``checkpoints_extend``) and applies the events after it, so any instant of a journal
of millions of events is rebuilt from a few thousand. ``live_state`` reads the same picture from
the tables, which is how replay is proved exact.

Everything time-dependent is computed at the instant asked for: a procedure's overdue steps are
the pending mandatory ones whose deadline (journaled when the procedure started) has passed.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from controlroom import events
from controlroom.models import Event

# Bump when ``apply`` changes what it derives: older checkpoints are then ignored.
VERSION = 3
CHECKPOINT_EVERY = 5000
BATCH = 5000

ALERT_OPEN = ("new", "acknowledged")
INCIDENT_SHOWN = ("new", "acknowledged", "dispatched", "on_scene", "resolved")
REPORT_OPEN = ("received", "in_progress")
STEP_FINISHED = ("done", "skipped")
SECTIONS = ("alerts", "incidents", "units", "devices", "cameras", "screens", "reports")

_ALERT_FIELDS = ("source", "category", "severity", "title", "lat", "lon", "sector", "status",
                 "repeat_count")
_INCIDENT_FIELDS = ("title", "category", "priority", "status", "lat", "lon", "sector", "address")
_UNIT_FIELDS = ("call_sign", "kind", "status", "lat", "lon")
_DEVICE_FIELDS = ("code", "name", "kind", "state", "online", "lat", "lon")
_CAMERA_FIELDS = ("code", "name", "online", "sensitive", "lat", "lon")


def empty() -> dict:
    return {"version": VERSION, "seq": 0, "time": None, **{name: {} for name in SECTIONS}}


# --- the reducer ------------------------------------------------------------------------------
def apply(state: dict, seq: int, type: str, subject: tuple, agencies: list,
          payload: dict) -> None:
    """Apply one journal event (in sequence order) to ``state``, with the reducer its type
    declares in the registry (``controlroom.events``); the caller sets ``state["time"]`` once
    it has applied the last one (``event_time``)."""
    state["seq"] = seq
    entry = events.lookup(type)
    if entry is not None and entry.replayed:
        entry.replay(state, type, subject, agencies, payload)


def apply_alert(state, type, subject, agencies, p):
    key = str(p.get("alert", subject[2]))
    alerts = state["alerts"]
    if p.get("status") not in ALERT_OPEN:
        alerts.pop(key, None)
        return
    alert = alerts.setdefault(key, {"radius_m": None, "escalated": False})
    alert.update({name: p.get(name) for name in _ALERT_FIELDS})
    alert["source_count"] = p.get("source_count") or 1  # events from before sources were counted
    radius = p.get("radius_m", (p.get("evidence") or {}).get("radius_m"))
    if radius is not None:
        alert["radius_m"] = radius
    if type == "alert.escalated":
        alert["escalated"] = True


def apply_incident(state, type, subject, agencies, p):
    key = str(p.get("incident", subject[2]))
    incidents = state["incidents"]
    if type == "incident.created":
        incidents[key] = {"reference": p.get("reference"), "units": {}, "alerts": [],
                          "procedure": None,
                          **{name: p.get(name) for name in _INCIDENT_FIELDS}}
        return
    incident = incidents.get(key)
    if incident is None:
        return  # closed, or opened before the journal's first event
    if type == "incident.updated":
        for name, change in (p.get("changes") or {}).items():
            if name in _INCIDENT_FIELDS:
                incident[name] = change.get("to")
    elif type == "incident.status_changed":
        incident["status"] = p.get("to")
        if incident["status"] not in INCIDENT_SHOWN:
            del incidents[key]
    elif type == "incident.unit_assigned":
        incident["units"][str(p["unit"])] = "assigned"
    elif type == "incident.unit_on_scene":
        incident["units"][str(p["unit"])] = "on_scene"
    elif type == "incident.unit_released":
        incident["units"].pop(str(p["unit"]), None)
    elif type == "incident.alert_attached":
        if p.get("alert") not in incident["alerts"]:
            incident["alerts"] = sorted([*incident["alerts"], p.get("alert")])


def apply_procedure(state, type, subject, agencies, p):
    incident = state["incidents"].get(str(p.get("incident", subject[2])))
    if incident is None:
        return
    if type == "procedure.started":
        incident["procedure"] = {
            "run": p["run"], "name": p.get("name"), "status": "active",
            "steps": {step["key"]: {"order": step["order"], "mandatory": step["mandatory"],
                                    "status": step["status"],
                                    "deadline_at": step.get("deadline_at")}
                      for step in p.get("steps", [])},
        }
        return
    run = incident["procedure"]
    if run is None or run["run"] != p.get("run"):
        return
    if type in ("procedure.step_done", "procedure.step_answered", "procedure.step_skipped"):
        step = run["steps"].get(p.get("key"))
        if step is not None:
            step["status"] = p.get("status")
        for left_out in p.get("bypassed") or ():
            if left_out.get("key") in run["steps"]:
                run["steps"][left_out["key"]]["status"] = "bypassed"
    elif type in ("procedure.completed", "procedure.superseded", "procedure.cancelled"):
        run["status"] = p.get("status")


def apply_unit(state, type, subject, agencies, p):
    if "data" in p:  # written from the administration
        apply_configured(state, type, subject, agencies, p)
        return
    key = str(p.get("unit", subject[2]))
    unit = state["units"].setdefault(key, {"active": True, "agency": None})
    unit.update({name: p.get(name) for name in _UNIT_FIELDS})
    if agencies and unit["agency"] is None:
        unit["agency"] = agencies[0]


def apply_device(state, type, subject, agencies, p):
    if "data" in p:
        apply_configured(state, type, subject, agencies, p)
        return
    key = str(p.get("device", subject[2]))
    device = state["devices"].setdefault(key, {"active": True})
    device.update({name: p.get(name) for name in _DEVICE_FIELDS})


def apply_camera(state, type, subject, agencies, p):
    if "data" in p:
        apply_configured(state, type, subject, agencies, p)
        return
    if type not in ("camera.online", "camera.offline", "camera.connection_failed"):
        return  # views and the like change nothing on the map
    key = str(p.get("camera", subject[2]))
    camera = state["cameras"].setdefault(key, {"enabled": True})
    camera.update({name: p.get(name) for name in _CAMERA_FIELDS})
    camera["analytics"] = sorted(p.get("analytics") or ())


def apply_screen(state, type, subject, agencies, p):
    if type != "screen.routed":
        return
    if p.get("camera"):
        state["screens"][p["screen"]] = {"name": p.get("name"), "camera": p["camera"]}
    else:
        state["screens"].pop(p.get("screen"), None)


def apply_report(state, type, subject, agencies, p):
    if "lat" not in p:
        return  # contact erased and the like
    key = str(p.get("report", subject[2]))
    if p.get("status") not in REPORT_OPEN:
        state["reports"].pop(key, None)
        return
    state["reports"][key] = {name: p.get(name) for name in
                             ("service", "service_name", "status", "lat", "lon", "alert")}


# Objects also written from the administration as ``{name, data}``: which fields the map uses.
_CONFIGURED = {
    ("incidents", "unit"): ("units", {"call_sign": "call_sign", "kind": "kind",
                                      "status": "status", "lat": "lat", "lon": "lon",
                                      "active": "active", "agency": "agency"}),
    ("devices", "device"): ("devices", {name: name for name in (*_DEVICE_FIELDS, "active")}),
    ("video", "camera"): ("cameras", {name: name for name in (*_CAMERA_FIELDS, "enabled",
                                                              "analytics")}),
}
_DEFAULTS = {"units": {"active": True, "agency": None, "status": "available", "lat": None,
                       "lon": None},
             "devices": {"active": True, "online": True, "state": {}},
             "cameras": {"enabled": True, "online": False, "sensitive": False,
                         "analytics": []}}


def apply_configured(state, type, subject, agencies, p):
    section, fields = _CONFIGURED[subject[0:2]]
    key = str(subject[2])
    if type.endswith(".deleted"):
        state[section].pop(key, None)
        return
    data = p.get("data") or {}
    item = state[section].setdefault(key, dict(_DEFAULTS[section]))
    for name, source in fields.items():
        if source in data:
            item[name] = data[source]
    if "analytics" in item:
        item["analytics"] = sorted(item["analytics"] or ())


def apply_exercise_purged(state, type, subject, agencies, p):
    """A purged exercise's alerts, incidents and units leave the picture."""
    removed = p.get("removed") or {}
    for section in ("alerts", "incidents", "units"):
        for key in removed.get(section) or ():
            state[section].pop(str(key), None)


# --- derived figures, computed at the instant shown --------------------------------------------
def progress(run: dict, at: datetime) -> dict:
    """A procedure's progress bar at ``at`` (as ``selectors.run_progress`` computes it)."""
    steps = sorted(run["steps"].items(), key=lambda item: item[1]["order"])
    pending = [(key, step) for key, step in steps if step["status"] == "pending"]
    return {
        "done": sum(1 for _, step in steps if step["status"] in STEP_FINISHED),
        "total": sum(1 for _, step in steps if step["status"] != "bypassed"),
        "overdue": sum(1 for _, step in pending if step["mandatory"] and step["deadline_at"]
                       and parse_datetime(step["deadline_at"]) < at),
        "next_step": pending[0][0] if pending and run["status"] == "active" else None,
    }


# --- reading the journal ----------------------------------------------------------------------
_COLUMNS = ("seq", "created_at", "type", "subject_app", "subject_model", "subject_id",
            "agencies", "payload")


def events_between(after: int, upto: int | None = None, *, batch: int = BATCH):
    """Journal events with ``after < seq <= upto`` in order, as ``apply``'s arguments.

    Read with plain SQL, and without their times (``event_time`` gives the last one's): turning
    each row into Python objects through the ORM costs several times the query.
    """
    table = Event._meta.db_table
    limit = upto if upto is not None else 2**62
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seq, type, subject_app, subject_model, subject_id, agencies, payload "
                f"FROM {table} WHERE seq > %s AND seq <= %s ORDER BY seq LIMIT %s",
                [after, limit, batch])
            rows = cursor.fetchall()
        for seq, type, app, model, subject_id, agencies, payload in rows:
            if not isinstance(agencies, list):
                agencies = [] if agencies == "[]" else json.loads(agencies)
            yield (seq, type, (app, model, subject_id), agencies,
                   payload if isinstance(payload, dict) else json.loads(payload))
        if len(rows) < batch:
            return
        after = rows[-1][0]


def event_time(seq: int) -> str | None:
    """When event ``seq`` was recorded, as ISO text (None for 0)."""
    moment = Event.objects.filter(seq=seq).values_list("created_at", flat=True).first()
    return moment.isoformat() if moment else None


def pack(state: dict) -> bytes:
    return zlib.compress(json.dumps(state, separators=(",", ":")).encode("utf-8"), 1)


def unpack(data) -> dict:
    return json.loads(zlib.decompress(bytes(data)))


def seq_at(at: datetime) -> int:
    """The last event recorded at or before ``at`` (0 before the first)."""
    row = (Event.objects.filter(created_at__lte=at).order_by("-created_at", "-seq")
           .values_list("seq", flat=True).first())
    return row or 0


def state_at(*, seq: int | None = None, at: datetime | None = None,
             use_checkpoints: bool = True) -> dict:
    """The console's state just after event ``seq`` (or at the instant ``at``)."""
    from incidents.models import ReplayCheckpoint

    if seq is None:
        seq = seq_at(at)
    checkpoint = None
    if use_checkpoints:
        checkpoint = (ReplayCheckpoint.objects.filter(version=VERSION, seq__lte=seq)
                      .order_by("-seq").values_list("state", flat=True).first())
    state = unpack(checkpoint) if checkpoint is not None else empty()
    start = state["seq"]
    for event in events_between(start, seq):
        apply(state, *event)
    if state["seq"] != start:
        state["time"] = event_time(state["seq"])
    return state


def checkpoints_extend(*, every: int = CHECKPOINT_EVERY) -> int:
    """Save the state every ``every`` events from the last checkpoint to the journal's head;
    returns how many checkpoints were written. Safe to run from several workers at once."""
    from incidents.models import ReplayCheckpoint

    last = (ReplayCheckpoint.objects.filter(version=VERSION).order_by("-seq")
            .values_list("state", flat=True).first())
    state = unpack(last) if last is not None else empty()
    mark = state["seq"]
    written = 0
    for event in events_between(state["seq"]):
        apply(state, *event)
        if state["seq"] - mark >= every:
            state["time"] = event_time(state["seq"])
            with transaction.atomic():
                ReplayCheckpoint.objects.get_or_create(
                    version=VERSION, seq=state["seq"],
                    defaults={"time": parse_datetime(state["time"]), "state": pack(state)})
            mark = state["seq"]
            written += 1
    return written


# --- the same picture, read from the tables ----------------------------------------------------
def live_state() -> dict:
    """What the tables say now, in ``apply``'s shape: replay is exact when, at any instant,
    the state rebuilt from the journal equals this as read at that instant."""
    from citizens.models import Report
    from controlroom.journal import head_seq, to_json_value
    from devices.models import Device
    from incidents.models import Alert, Assignment, Incident, ProcedureRun, Unit
    from video.models import Camera, Screen

    state = empty()
    state["seq"] = head_seq()
    for alert in Alert.objects.filter(status__in=ALERT_OPEN).select_related("category"):
        state["alerts"][str(alert.pk)] = {
            "source": alert.source, "category": alert.category.code, "severity": alert.severity,
            "title": alert.title, "lat": alert.lat, "lon": alert.lon, "sector": alert.sector_id,
            "status": alert.status, "repeat_count": alert.repeat_count,
            "source_count": alert.source_count,
            "radius_m": (alert.evidence or {}).get("radius_m"),
            "escalated": alert.escalated_at is not None,
        }
    incidents = Incident.objects.filter(status__in=INCIDENT_SHOWN).select_related("category")
    for incident in incidents:
        state["incidents"][str(incident.pk)] = {
            "reference": incident.reference, "title": incident.title,
            "category": incident.category.code, "priority": incident.priority,
            "status": incident.status, "lat": incident.lat, "lon": incident.lon,
            "sector": incident.sector_id, "address": incident.address,
            "units": {}, "alerts": sorted(incident.alerts.values_list("pk", flat=True)),
            "procedure": None,
        }
    shown = state["incidents"]
    for assignment in Assignment.objects.filter(released_at=None, incident__in=incidents):
        shown[str(assignment.incident_id)]["units"][str(assignment.unit_id)] = (
            "on_scene" if assignment.on_scene_at else "assigned")
    for run in (ProcedureRun.objects.filter(incident__in=incidents).order_by("pk")
                .prefetch_related("steps")):
        shown[str(run.incident_id)]["procedure"] = {
            "run": run.pk, "name": run.name, "status": run.status,
            "steps": {step.key: {"order": step.order, "mandatory": step.mandatory,
                                 "status": step.status, "deadline_at": step.deadline_at}
                      for step in run.steps.all()},
        }
    for unit in Unit.objects.all():
        state["units"][str(unit.pk)] = {
            "call_sign": unit.call_sign, "kind": unit.kind, "status": unit.status,
            "lat": unit.lat, "lon": unit.lon, "active": unit.active, "agency": unit.agency_id}
    for device in Device.objects.all():
        state["devices"][str(device.pk)] = {
            "code": device.code, "name": device.name, "kind": device.kind,
            "state": device.state, "online": device.online, "lat": device.lat,
            "lon": device.lon, "active": device.active}
    for camera in Camera.objects.all():
        state["cameras"][str(camera.pk)] = {
            "code": camera.code, "name": camera.name, "online": camera.online,
            "sensitive": camera.sensitive, "lat": camera.lat, "lon": camera.lon,
            "analytics": sorted(camera.analytics or ()), "enabled": camera.enabled}
    for screen in Screen.objects.exclude(camera=None).select_related("camera"):
        state["screens"][screen.code] = {"name": screen.name, "camera": screen.camera.code}
    for report in Report.objects.filter(status__in=REPORT_OPEN).select_related("service"):
        state["reports"][str(report.pk)] = {
            "service": report.service.code, "service_name": report.service.name,
            "status": report.status, "lat": report.lat, "lon": report.lon,
            "alert": report.alert_id}
    return to_json_value(state)


# --- what the replay page draws ----------------------------------------------------------------
def _feature(kind: str, key: str, item: dict, properties: dict) -> dict:
    from controlroom.layers import feature

    return feature(kind, int(key), item["lat"], item["lon"], properties)


def present(state: dict, at: datetime, *, incident: int | None = None,
            sector=None) -> dict:
    """The map layers (shaped as the console's live layers), incident details and wall screens
    of a replayed state, optionally narrowed to one incident or one sector."""
    from controlroom.layers import collection
    from controlroom.models import Agency
    from incidents.models import Category

    categories = {code: (label, domain) for code, label, domain in
                  Category.objects.values_list("code", "label", "domain")}
    agencies = dict(Agency.objects.values_list("pk", "name"))
    inside = _inside(sector)
    incidents = {key: item for key, item in state["incidents"].items()
                 if (incident is None or key == str(incident))
                 and (sector is None or item["sector"] == sector.pk)}
    alerts = {key: item for key, item in state["alerts"].items()
              if (sector is None or item["sector"] == sector.pk)
              and (incident is None or any(int(key) in i["alerts"] for i in incidents.values()))}
    engaged = {unit for item in incidents.values() for unit in item["units"]}
    units = {key: item for key, item in state["units"].items()
             if item["active"] and item["lat"] is not None
             and (incident is None or key in engaged) and inside(item)}
    reports = {key: item for key, item in state["reports"].items()
               if inside(item) and (incident is None or item["alert"] in
                                    {a for i in incidents.values() for a in i["alerts"]})}
    devices = {key: item for key, item in state["devices"].items()
               if item.get("active", True) and item.get("lat") is not None and inside(item)}
    cameras = {key: item for key, item in state["cameras"].items()
               if item.get("enabled", True) and item.get("lat") is not None and inside(item)}
    camera_names = {item["code"]: item["name"] for item in state["cameras"].values()}

    def category(code):
        return categories.get(code, (code, ""))

    layers = {
        "incidents": collection([_feature("incident", key, item, {
            "title": item["title"], "priority": item["priority"], "status": item["status"],
            "category": item["category"], "category_label": category(item["category"])[0],
            "domain": category(item["category"])[1], "reference": item["reference"],
        }) for key, item in incidents.items()]),
        "alerts": collection([_feature("alert", key, item, {
            "title": item["title"], "severity": item["severity"], "status": item["status"],
            "source": item["source"], "category": item["category"],
            "repeat_count": item["repeat_count"], "radius_m": item["radius_m"],
            "source_count": item.get("source_count", 1), "escalated": item["escalated"],
        }) for key, item in alerts.items()]),
        "units": collection([_feature("unit", key, item, {
            "call_sign": item["call_sign"], "unit_kind": item["kind"], "status": item["status"],
            "agency": agencies.get(item["agency"], ""),
        }) for key, item in units.items()]),
        "citizen_reports": collection([_feature("report", key, item, {
            "service": item["service"], "service_name": item["service_name"],
            "status": item["status"], "alert": item["alert"],
        }) for key, item in reports.items()]),
        "devices": collection([_feature("device", key, item, {
            "code": item["code"], "name": item["name"], "device_kind": item["kind"],
            "online": item["online"], "state": item["state"],
        }) for key, item in devices.items()]),
        "cameras": collection([_feature("camera", key, item, {
            "code": item["code"], "name": item["name"], "online": item["online"],
            "sensitive": item["sensitive"], "analytics": item["analytics"],
        }) for key, item in cameras.items()]),
    }
    details = []
    for key, item in sorted(incidents.items(), key=lambda pair: (pair[1]["priority"],
                                                                 int(pair[0]))):
        run = item["procedure"]
        details.append({
            "id": int(key), "reference": item["reference"], "title": item["title"],
            "status": item["status"], "priority": item["priority"],
            "category_label": category(item["category"])[0], "address": item["address"],
            "units": [{"id": int(unit), "call_sign": state["units"].get(unit, {}).get(
                "call_sign", unit), "status": status} for unit, status in item["units"].items()],
            "alerts": item["alerts"],
            "procedure": None if run is None else {
                "name": run["name"], "status": run["status"], "progress": progress(run, at),
                "steps": [{"key": key, **step, "late": bool(
                    step["status"] == "pending" and step["deadline_at"]
                    and parse_datetime(step["deadline_at"]) < at)}
                    for key, step in sorted(run["steps"].items(),
                                            key=lambda pair: pair[1]["order"])],
            },
        })
    screens = [{"code": code, "name": item["name"], "camera": item["camera"],
                "camera_name": camera_names.get(item["camera"], item["camera"])}
               for code, item in sorted(state["screens"].items())]
    return {"seq": state["seq"], "at": at.isoformat(), "event_time": state["time"],
            "layers": layers, "incidents": details, "screens": screens,
            "counts": {"alerts": len(alerts), "incidents": len(incidents), "units": len(units)}}


def _inside(sector):
    """A test of whether a state item's point lies in ``sector`` (always true without one)."""
    if sector is None:
        return lambda item: True
    from controlroom.geo import PreparedArea

    area = PreparedArea(sector.geometry)
    return lambda item: item.get("lat") is not None and area.contains(item["lat"], item["lon"])


# --- the timeline ------------------------------------------------------------------------------
TIMELINE_LIMIT = 2000


def _status_words() -> dict[str, str]:
    """Words for the statuses events carry (incidents, units, procedure steps, equipment)."""
    from django.utils.translation import gettext

    from incidents.models import Incident, StepRun, Unit

    words = {"online": gettext("en ligne"), "offline": gettext("hors ligne")}
    for choices in (StepRun.Status.choices, Unit.Status.choices, Incident.Status.choices):
        words.update({code: str(label) for code, label in choices})
    return words


def summary(type: str, p: dict) -> str:
    """A line of words for an event of the timeline, from its payload: status and step labels,
    never their codes."""
    from django.utils.translation import gettext

    statuses = _status_words()
    if type == "incident.status_changed":
        change = f"{statuses.get(p.get('from'), p.get('from'))} → " \
                 f"{statuses.get(p.get('to'), p.get('to'))}"
        reason = p.get("reason")
        text = f"{p.get('reference', '')} {change}".strip()
        return (f"{text} ({reason})" if reason else text)[:160]
    if type in ("procedure.step_done", "procedure.step_skipped", "procedure.step_answered",
                "procedure.step_overdue"):
        words = [p.get("reference"), p.get("instruction")]
        if p.get("answer") is not None:
            words.append(gettext("Oui") if p.get("answer") else gettext("Non"))
        words += [p.get("reason") or p.get("call_sign") or p.get("note")]
        return " · ".join(str(word) for word in words if word not in (None, ""))[:160]
    status = p.get("status") if type.startswith(("unit.", "device.", "camera.")) else None
    words = [p.get("reference"), p.get("title") or p.get("name") or p.get("call_sign")
             or p.get("service_name") or p.get("code"),
             p.get("instruction"), statuses.get(status, status) if status else None]
    if type == "screen.routed":
        words = [p.get("name"), p.get("camera") or "—"]
    return " · ".join(str(word) for word in words if word not in (None, ""))[:160]


def timeline(*, start: datetime, end: datetime, incident: int | None = None,
             sector=None) -> dict:
    """The events of ``[start, end]``, oldest first (at most ``TIMELINE_LIMIT``), narrowed to
    one incident (its story and its alerts) or one sector (what happened there)."""
    from django.db.models import Q

    events = Event.objects.filter(created_at__gte=start, created_at__lte=end)
    if incident is not None:
        events = events.filter(
            Q(subject_app="incidents", subject_model="incident", subject_id=str(incident))
            | Q(subject_app="incidents", subject_model="alert", payload__incident=incident))
    if sector is not None:
        there = (Event.objects.filter(type="incident.created", payload__sector=sector.pk)
                 .values_list("subject_id", flat=True))
        events = events.filter(
            Q(payload__sector=sector.pk)
            | Q(subject_app="incidents", subject_model="incident", subject_id__in=there))
    rows = list(events.order_by("seq").values_list("seq", "created_at", "type", "actor_label",
                                                   "payload")[:TIMELINE_LIMIT + 1])
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "truncated": len(rows) > TIMELINE_LIMIT,
        "events": [{"seq": seq, "time": created_at.isoformat(), "type": type, "actor": actor,
                    "summary": summary(type, payload)}
                   for seq, created_at, type, actor, payload in rows[:TIMELINE_LIMIT]],
    }
