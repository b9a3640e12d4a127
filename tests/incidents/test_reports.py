"""After-action reports: response times, procedure compliance, commands, cameras, timeline."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from controlroom.services import configuration_save
from devices.models import Device
from devices.services import commands as device_commands
from incidents.models import Alert, StepRun
from incidents.services import alerts as alert_services
from incidents.services import incidents as incident_services
from incidents.services import procedures as procedure_services
from incidents.services import units as unit_services
from tests.incidents.conftest import REPUBLIQUE
from tests.incidents.procedure_setup import make_template
from video import services as video_services
from video.models import Camera

pytestmark = pytest.mark.django_db

# An hour from now: the story's events come after the fixtures' in the journal, as in life.
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def at(seconds: int):
    return time_machine.travel(T0 + timedelta(seconds=seconds), tick=False)


@pytest.fixture
def night(city, categories, people, make_unit):
    """A fight on place de la République, handled with known timings (seconds after T0)."""
    operator, supervisor = people["operator"], people["supervisor"]
    make_template("rixe", categories["rixe"], [
        {"key": "cameras", "deadline": 120},
        {"key": "renforts", "deadline": 600},
        {"key": "compte-rendu", "deadline": 900},
    ])
    unit = make_unit("PM 12")
    camera = Camera(code="cam-rep", name="Caméra République", stream_url="demo.mp4")
    camera.set_point(REPUBLIQUE[0] + 0.001, REPUBLIQUE[1])
    configuration_save(instance=camera, by=people["administrator"], created=True)
    far = Camera(code="cam-loin", name="Caméra lointaine", stream_url="demo.mp4")
    far.set_point(REPUBLIQUE[0] + 0.02, REPUBLIQUE[1])
    configuration_save(instance=far, by=people["administrator"], created=True)
    light = Device(code="lum-rep", name="Candélabre République", kind="street_light",
                   address="lum-rep")
    light.set_point(*REPUBLIQUE)
    configuration_save(instance=light, by=people["administrator"], created=True)

    with at(0):
        alert = alert_services.alert_receive(
            by="system:test", source=Alert.Source.CAMERA, category=categories["rixe"],
            title="Rixe détectée", lat=REPUBLIQUE[0], lon=REPUBLIQUE[1], severity=2).alert
    with at(45):
        alert_services.alert_acknowledge(alert=alert, by=operator)
    with at(60):
        incident = alert_services.alert_open_incident(alert=alert, by=operator)
    steps = {s.key: s for s in incident.procedure_runs.get().steps.all()}
    with at(150):
        unit_services.unit_assign(incident=incident, unit=unit, by=operator)
    with at(200):  # 20 s after its deadline (60 + 120)
        procedure_services.step_complete(step=steps["cameras"], by=operator)
    with at(300):
        procedure_services.step_skip(step=steps["renforts"], by=supervisor,
                                     reason="Renforts inutiles, calme revenu")
    with at(330):
        device_commands.command_request(device=light, action="on", params={}, by=operator,
                                        incident=incident)
    with at(360):
        video_services.live_view_open(camera=camera, by=operator)
        video_services.live_view_open(camera=far, by=operator)
    with at(420):
        unit_services.unit_status_set(unit=unit, status="on_scene", by=operator)
    with at(900):
        incident_services.incident_transition(incident=incident, to="resolved", by=operator)
    with at(1000):
        incident_services.incident_transition(incident=incident, to="closed", by=supervisor)
    incident.refresh_from_db()
    return incident


def test_the_report_gives_the_response_times_and_what_was_done(api, people, night):
    with at(2000):
        response = api(people["supervisor"]).get(f"/incidents/{night.pk}/compte-rendu/")
    assert response.status_code == 200
    html = response.content.decode()
    # Alert → acknowledged 45 s; → unit sent 105 s; → on scene 270 s; to resolution 900 s.
    assert re.findall(r'data-seconds="([\d.]+)"', html) == ["45.0", "105.0", "270.0", "900.0"]
    assert "45 s" in html and "1 min 45 s" in html and "4 min 30 s" in html
    assert "15 min 00 s" in html
    # Procedure: the first step late, the second skipped with its reason, the third not done.
    assert re.search(r'<tr data-key="cameras" class="late">', html)
    assert re.search(r'<tr data-key="renforts" class="">.*Renforts inutiles, calme revenu',
                     html)
    assert '<tr data-key="compte-rendu" class="">' in html
    step = StepRun.objects.get(key="compte-rendu")
    assert step.status == StepRun.Status.PENDING
    # The device command, the nearby camera (not the far one), the story.
    assert "Candélabre République" in html
    assert "Caméra République" in html and "Caméra lointaine" not in html
    assert night.reference in html and "Incident créé" in html and "Alerte reçue" in html
    # The map: the unit's way there.
    assert re.search(r'<svg class="map"[^>]*viewBox="-?\d+ -?\d+ \d+ \d+"', html)
    assert "<polyline" in html and ">PM 12</text>" in html


def test_the_report_downloads_as_pdf(api, people, night):
    response = api(people["supervisor"]).get(f"/incidents/{night.pk}/compte-rendu.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert night.reference in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-") and len(response.content) > 5000


def test_reports_are_for_supervisors(api, people, night):
    for user in ("operator", "liaison_pn"):
        assert api(people[user]).get(f"/incidents/{night.pk}/compte-rendu/").status_code == 403
        assert api(people[user]).get(
            f"/incidents/{night.pk}/compte-rendu.pdf").status_code == 403
    assert api(people["supervisor"]).get("/incidents/999999/compte-rendu/").status_code == 404
