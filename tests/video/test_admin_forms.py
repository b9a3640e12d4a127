"""The camera admin: analyses set with fields (not JSON), a place picked on a map, and an image
to draw zones on before the camera's first analysis."""

import json

import pytest

from tests.video.conftest import DARCY
from video.models import Camera

pytestmark = pytest.mark.django_db

ZONES = [{"name": "parvis", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}]


def camera_post(**extra):
    data = {"code": "cam-parvis", "name": "Parvis", "sector": "", "stream_url": "/nope.avi",
            "target_fps": "5", "zones": json.dumps(ZONES), "masks": "[]",
            "detector": "motion", "enabled": "on", "lat": str(DARCY[0]), "lon": str(DARCY[1]),
            "analytics": ""}
    data.update(extra)
    return data


def test_analyses_are_set_with_fields_and_stored_as_the_workers_read_them(api, people, city):
    client = api(people["administrator"])
    page = client.get("/admin/video/camera/add/").content.decode()
    assert "Activer « Densité excessive »" in page
    assert "nombre maximal de personnes" in page
    assert 'class="place-picker-map"' in page and "controlroom/js/place_picker.js" in page
    assert '<textarea name="analytics"' not in page

    response = client.post("/admin/video/camera/add/", camera_post(**{
        "density__on": "on", "density__zones": "parvis", "density__p__max_persons": "12",
        "density__start": "22:00", "density__end": "06:00", "density__days": ["4", "5"],
        "intrusion__on": "on", "intrusion__zones": "parvis",
        "intrusion__p__labels": "person, car",
        "loitering__p__max_seconds": "60",  # not switched on: ignored
    }))

    assert response.status_code == 302, response.content.decode()[:2000]
    camera = Camera.objects.get(code="cam-parvis")
    assert camera.analytics == {
        "density": {"params": {"max_persons": 12}, "zones": ["parvis"],
                    "schedule": {"start": "22:00", "end": "06:00", "days": [4, 5]}},
        "intrusion": {"params": {"labels": ["person", "car"]}, "zones": ["parvis"]},
    }
    shown = client.get(f"/admin/video/camera/{camera.pk}/change/").content.decode()
    assert 'name="density__p__max_persons" value="12"' in shown
    assert 'name="density__zones" value="parvis"' in shown


def test_wrong_analysis_settings_are_refused_in_french(api, people, city):
    client = api(people["administrator"])

    unknown_zone = client.post("/admin/video/camera/add/", camera_post(
        **{"density__on": "on", "density__zones": "quai"}))
    half_schedule = client.post("/admin/video/camera/add/", camera_post(
        **{"density__on": "on", "density__start": "22:00"}))

    assert unknown_zone.status_code == 200 and "zone(s) inconnue(s)" in \
        unknown_zone.content.decode()
    assert half_schedule.status_code == 200 and "début et la fin" in \
        half_schedule.content.decode()
    assert not Camera.objects.exists()


def test_the_zone_editor_gets_an_image_before_the_first_analysis(api, people, make_camera,
                                                                 intruder_clip):
    camera = make_camera("cam-new", intruder_clip)
    client = api(people["administrator"])

    response = client.get(f"/video/cameras/{camera.pk}/image.jpg?from=admin")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg" and response.content[:2] == b"\xff\xd8"
    assert response["X-Camera-Snapshot"] == "1"
    # The console still waits for the analysis: no snapshot taken for it.
    assert api(people["operator"]).get(f"/video/cameras/{camera.pk}/image.jpg").status_code \
        == 204


def test_no_image_when_the_stream_does_not_answer(api, people, make_camera, tmp_path):
    camera = make_camera("cam-dead", tmp_path / "absent.avi")

    response = api(people["administrator"]).get(f"/video/cameras/{camera.pk}/image.jpg"
                                                "?from=admin")

    assert response.status_code == 204
