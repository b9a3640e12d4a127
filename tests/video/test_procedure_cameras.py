"""A "show the nearby cameras" procedure step is done by opening one of them: the live view is
journaled and the camera is the step's evidence."""

import pytest
from django.core.exceptions import ValidationError

from controlroom.models import Event
from demo.procedures import load_demo_procedures
from incidents.models import StepRun
from incidents.services import incidents as incident_services
from video import services

pytestmark = pytest.mark.django_db

DARCY = (47.3225, 5.0352)
REPUBLIQUE = (47.3268, 5.0455)
TOISON = (47.3515, 5.0585)


@pytest.fixture
def cameras_step(people, categories, city):
    load_demo_procedures()
    incident = incident_services.incident_create(
        by=people["operator"], category=categories["personne_au_sol"], title="Personne au sol",
        lat=DARCY[0], lon=DARCY[1], priority=2)
    return StepRun.objects.get(run__incident=incident, key="cameras")


def test_showing_a_camera_does_the_step_with_the_camera_as_evidence(cameras_step, make_camera,
                                                                     people, api):
    camera = make_camera("cam-darcy", stream_url="file:///dev/null")
    client = api(people["operator"])
    answer = client.post(f"/api/procedure-steps/{cameras_step.pk}/camera/",
                         {"camera": camera.pk}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["live_url"] == f"/video/cameras/{camera.pk}/direct/"
    cameras_step.refresh_from_db()
    assert cameras_step.status == "done"
    assert cameras_step.evidence["camera"] == "cam-darcy"
    viewed = Event.objects.get(type="camera.live_viewed")
    assert viewed.payload["where"] == "procedure"


def test_a_camera_far_from_the_incident_is_refused(cameras_step, make_camera, people):
    camera = make_camera("cam-far", stream_url="file:///dev/null")
    camera.set_point(*TOISON)
    camera.save()
    with pytest.raises(ValidationError, match="trop loin"):
        services.step_camera_show(step=cameras_step, camera=camera, by=people["operator"])
    cameras_step.refresh_from_db()
    assert cameras_step.status == "pending"


def test_bad_input_is_a_clear_error(cameras_step, people, api):
    client = api(people["operator"])
    url = f"/api/procedure-steps/{cameras_step.pk}/camera/"
    assert client.post(url, {"camera": "x"}, content_type="application/json").status_code == 400
    assert client.post(url, {"camera": 99999}, content_type="application/json").status_code == 400
    assert client.post("/api/procedure-steps/999999/camera/", {"camera": 1},
                       content_type="application/json").status_code == 404
