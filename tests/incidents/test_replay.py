"""Replay: the console's state rebuilt from the journal alone equals what the tables said.

The demo city is loaded, then a shift is played through the services (alerts, an incident with
its procedure, dispatch, devices, cameras, wall screens, citizen reports, closing). At several
instants the state read from the tables is recorded; afterwards, the state rebuilt from the
journal at each instant (from the start, and from checkpoints) must be the same.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from citizens.models import Report
from citizens.services import report_set_status
from controlroom import journal
from controlroom.models import Event
from devices import services as device_services
from devices.models import Device
from incidents import replay
from incidents.models import Alert, Category, Incident, ReplayCheckpoint, StepRun, Unit
from incidents.selectors import run_progress
from incidents.services import alerts as alert_services
from incidents.services import incidents as incident_services
from incidents.services import procedures as procedure_services
from incidents.services import units as unit_services
from video import services as video_services
from video.models import Camera, Screen

pytestmark = pytest.mark.django_db


def snapshot(moments: list, label: str) -> None:
    """What the tables say now, and the instant (the last event's time)."""
    last = Event.objects.order_by("-seq").first()
    moments.append((label, last.seq, last.created_at, replay.live_state()))


def same(rebuilt: dict, live: dict, label: str) -> None:
    for section in replay.SECTIONS:
        assert rebuilt[section] == live[section], f"{label}: {section} differ"


def play_a_shift(users: dict, moments: list) -> dict:
    operator, supervisor = users["operateur"], users["superviseur"]
    snapshot(moments, "demo loaded")

    # Sensors and cameras raise alerts; a sound is located; one alert repeats.
    noise = alert_services.alert_receive(
        by="system:test", source=Alert.Source.SENSOR,
        category=Category.objects.get(code="nuisance_sonore"), title="Bruit rue Berbisey",
        lat=47.3180, lon=5.0370, severity=3, dedup_key="test-noise").alert
    alert_services.alert_receive(
        by="system:test", source=Alert.Source.SENSOR,
        category=Category.objects.get(code="nuisance_sonore"), title="Bruit rue Berbisey",
        lat=47.3180, lon=5.0370, severity=2, dedup_key="test-noise")
    shot = alert_services.alert_receive(
        by="system:test", source=Alert.Source.SENSOR,
        category=Category.objects.get(code="intrusion"),
        title="Bris de vitrine", lat=47.3225, lon=5.0410, severity=1).alert
    alert_services.alert_locate(alert=shot, by="system:test", lat=47.3227, lon=5.0412,
                                radius_m=11.5)
    snapshot(moments, "alerts in")

    # An operator opens an incident from the located sound, a unit is sent and arrives.
    alert_services.alert_acknowledge(alert=shot, by=operator)
    incident = alert_services.alert_open_incident(alert=shot, by=operator,
                                                  title="Bris de vitrine place Darcy")
    unit = Unit.objects.filter(status=Unit.Status.AVAILABLE, active=True).order_by("pk").first()
    unit_services.unit_assign(incident=incident, unit=unit, by=operator)
    unit_services.unit_position_report(unit=unit, lat=47.3226, lon=5.0405, by=operator)
    unit_services.unit_status_set(unit=unit, status=Unit.Status.ON_SCENE, by=operator)
    run = incident.procedure_runs.order_by("-pk").first()
    pending = list(run.steps.filter(status=StepRun.Status.PENDING, kind="checklist")
                   .order_by("order")) if run else []
    if pending:
        procedure_services.step_complete(step=pending[0], by=operator)
    if len(pending) > 1:
        procedure_services.step_skip(step=pending[1], by=supervisor, reason="Déjà fait sur place")
    incident_services.incident_update(incident=incident, by=operator, priority=1,
                                      title="Bris de vitrine place Darcy (2 auteurs)")
    snapshot(moments, "incident under way")

    # Devices and cameras change; a camera goes on the wall; a citizen report is taken on.
    device = Device.objects.filter(kind="street_light").order_by("pk").first()
    device_services.device_report(device=device, state={"on": True, "level": 100})
    camera = Camera.objects.order_by("pk").first()
    video_services.camera_frames_seen(camera_id=camera.pk, fps=5)
    screen = Screen.objects.order_by("pk").first()
    plain = Camera.objects.filter(sensitive=False).order_by("pk").first()
    video_services.screen_route(screen=screen, camera=plain, by=supervisor)
    report = Report.objects.filter(status=Report.Status.RECEIVED).order_by("pk").first()
    if report is not None:
        report_set_status(report=report, by=operator, status=Report.Status.IN_PROGRESS,
                          note="Équipe prévenue")
    alert_services.alert_dismiss(alert=noise, by=operator, reason="duplicate")
    snapshot(moments, "devices and screens")

    # The night moves on: a device falls silent, the incident is resolved and closed.
    device_services.devices_check_heartbeats(now=timezone.now() + timedelta(hours=2))
    incident_services.incident_transition(incident=incident, to=Incident.Status.RESOLVED,
                                          by=operator)
    incident_services.incident_transition(incident=incident, to=Incident.Status.CLOSED,
                                          by=supervisor)
    video_services.screen_route(screen=screen, camera=None, by=supervisor)
    snapshot(moments, "closed")
    return {"incident": incident, "unit": unit, "screen": screen}


class TestTheDemoReplayed:
    """The small demo is loaded once (``shared_demo``); each test plays its shift on it, and the
    shift rolls back."""

    def test_replay_rebuilds_what_the_tables_said_at_each_instant(self, shared_demo):
        moments: list = []
        played = play_a_shift(shared_demo, moments)
        assert len(moments) == 5
        # The shift did change what the console shows between the instants.
        states = [live for *_, live in moments]
        assert all(a != b for a, b in zip(states, states[1:]))
        assert str(played["incident"].pk) in moments[2][3]["incidents"]
        assert moments[3][3]["screens"], "a camera was on the wall"

        for label, seq, at, live in moments:
            same(replay.state_at(seq=seq, use_checkpoints=False), live, label)
            same(replay.state_at(at=at), live, f"{label} (by time)")

        # From checkpoints every 7 events: the same states.
        assert replay.checkpoints_extend(every=7) >= 10
        for label, seq, at, live in moments:
            same(replay.state_at(seq=seq), live, f"{label} (from a checkpoint)")

        # What is time-dependent is computed at the instant shown: the procedure's progress.
        label, seq, at, live = moments[2]
        incident = played["incident"]
        run = incident.procedure_runs.order_by("-pk").first()
        assert run is not None, "the category has a procedure in the demo"
        for moment in (at, at + timedelta(hours=3)):  # three hours on, every deadline has passed
            (detail,) = replay.present(replay.state_at(seq=seq), moment,
                                       incident=incident.pk)["incidents"]
            progress = detail["procedure"]["progress"]
            assert progress["overdue"] == sum(1 for step in detail["procedure"]["steps"]
                                              if step["late"])
            if moment == at:  # as the tables said then; the run was still active
                steps = live["incidents"][str(incident.pk)]["procedure"]["steps"].values()
                assert progress["done"] == sum(step["status"] in ("done", "skipped")
                                               for step in steps) >= 1
                assert progress["overdue"] == 0
                assert progress["total"] == run_progress(run, now=moment)["total"]
                assert progress["next_step"] is not None
            else:
                assert progress["overdue"] >= 1

    def test_checkpoints_equal_the_state_reduced_from_the_start(self, shared_demo):
        play_a_shift(shared_demo, [])
        written = replay.checkpoints_extend(every=11)
        assert written == ReplayCheckpoint.objects.count() > 5
        for checkpoint in ReplayCheckpoint.objects.order_by("seq"):
            assert checkpoint.seq % 1 == 0
            assert replay.unpack(checkpoint.state) == replay.state_at(seq=checkpoint.seq,
                                                                      use_checkpoints=False)
        # Extending again writes nothing new until more events come; then it carries on.
        assert replay.checkpoints_extend(every=11) == 0
        head = journal.head_seq()
        for n in range(12):
            unit_services.unit_position_report(
                unit=Unit.objects.order_by("pk").first(), lat=47.32 + n / 10_000, lon=5.04,
                by="system:test")
        assert replay.checkpoints_extend(every=11) == 1
        assert ReplayCheckpoint.objects.order_by("-seq").first().seq > head
        # A checkpoint of another reducer version is ignored.
        ReplayCheckpoint.objects.update(version=replay.VERSION + 1)
        assert replay.state_at(seq=head)["units"] == \
            replay.state_at(seq=head, use_checkpoints=False)["units"]


# --- the API -------------------------------------------------------------------------------------
@pytest.fixture
def two_incidents(make_incident, make_unit, people):
    from tests.incidents.conftest import GARE, REPUBLIQUE

    first = make_incident(place=REPUBLIQUE)
    second = make_incident(place=GARE, category="accident_circulation")
    unit = make_unit("PM 1")
    unit_services.unit_assign(incident=first, unit=unit, by=people["operator"])
    return first, second, unit


def test_only_supervisors_replay(api, people, two_incidents):
    at = timezone.now().isoformat()
    response = api(people["operator"]).get("/api/replay/state/", {"at": at})
    assert response.status_code == 403
    assert "superviseurs" in response.json()["detail"]
    assert api(people["liaison_pn"]).get("/console/replay/").status_code == 403
    assert api(people["supervisor"]).get("/api/replay/state/", {"at": at}).status_code == 200


def test_the_state_api_draws_the_console_layers(api, people, two_incidents):
    first, second, unit = two_incidents
    client = api(people["supervisor"])
    data = client.get("/api/replay/state/", {"at": timezone.now().isoformat()}).json()
    ids = {f["properties"]["id"] for f in data["layers"]["incidents"]["features"]}
    assert ids == {first.pk, second.pk}
    feature = next(f for f in data["layers"]["incidents"]["features"]
                   if f["properties"]["id"] == first.pk)
    assert feature["geometry"]["coordinates"] == [first.lon, first.lat]
    assert feature["properties"]["reference"] == first.reference
    assert feature["properties"]["category_label"] == first.category.label
    (shown,) = [f for f in data["layers"]["units"]["features"]]
    assert shown["properties"] == {**shown["properties"], "call_sign": "PM 1",
                                   "status": "en_route", "agency": "Police municipale"}
    # Narrowed to one incident: that incident and its unit.
    narrowed = client.get("/api/replay/state/", {"at": timezone.now().isoformat(),
                                                  "incident": first.pk}).json()
    assert [i["id"] for i in narrowed["incidents"]] == [first.pk]
    assert narrowed["incidents"][0]["units"] == [
        {"id": unit.pk, "call_sign": "PM 1", "status": "assigned"}]
    assert [f["properties"]["id"] for f in narrowed["layers"]["units"]["features"]] == [unit.pk]
    # Before anything happened: an empty map.
    before = client.get("/api/replay/state/", {"at": "2020-01-01T00:00:00Z"}).json()
    assert before["seq"] == 0 and before["incidents"] == []


def test_a_sector_narrows_the_state_and_the_timeline(api, people, two_incidents):
    first, second, _unit = two_incidents
    client = api(people["supervisor"])
    now = timezone.now()
    data = client.get("/api/replay/state/", {"at": now.isoformat(),
                                              "sector": first.sector_id}).json()
    assert [i["id"] for i in data["incidents"]] == [first.pk]
    events = client.get("/api/replay/events/", {
        "start": (now - timedelta(hours=1)).isoformat(), "end": now.isoformat(),
        "sector": first.sector_id}).json()["events"]
    assert first.sector_id != second.sector_id
    assert "incident.created" in {e["type"] for e in events}
    assert all(second.reference not in e["summary"] for e in events)
    assert any(first.reference in e["summary"] for e in events)


def test_the_timeline_lists_an_incident_story_in_order(api, people, two_incidents):
    first, _second, _unit = two_incidents
    now = timezone.now()
    events = api(people["supervisor"]).get("/api/replay/events/", {
        "start": (now - timedelta(hours=1)).isoformat(), "end": now.isoformat(),
        "incident": first.pk}).json()["events"]
    types = [e["type"] for e in events]
    assert types[0] == "incident.created" and "incident.unit_assigned" in types
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert all(e["summary"].startswith(first.reference) for e in events)


@pytest.mark.parametrize("query, field", [
    ({}, "at"),
    ({"at": "hier soir"}, "at"),
    ({"at": "2026-12-03T10:00:00Z", "sector": 999999}, "sector"),
    ({"at": "2026-12-03T10:00:00Z", "incident": "x"}, "incident"),
])
def test_bad_state_queries_get_a_clear_error(api, people, city, query, field):
    response = api(people["supervisor"]).get("/api/replay/state/", query)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_timeline_must_end_after_it_starts(api, people, city):
    response = api(people["supervisor"]).get("/api/replay/events/", {
        "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T09:00:00Z"})
    assert response.status_code == 400
    assert "end" in response.json()["fields"]
