"""Cameras: zones and masks checked in the admin, the console layer without the stream address."""

import pytest
from django.core.exceptions import ValidationError

from video.models import Camera

pytestmark = pytest.mark.django_db
DARCY = (47.3225, 5.0352)


def camera(**fields):
    item = Camera(code=fields.pop("code", "cam-darcy"), name="Place Darcy",
                  stream_url="rtsp://user:secret@10.0.0.12/stream1", **fields)
    item.set_point(*DARCY)
    return item


@pytest.mark.parametrize("field, value, message", [
    ("zones", [{"name": "z", "points": [[0, 0], [1, 0]]}], "entre 3 et"),
    ("zones", [{"name": "z", "points": [[0, 0], [1.5, 0], [1, 1]]}], "entre 0 et 1"),
    ("zones", [{"name": "z", "points": [[0, 0], [1, 0], [1, 1]]},
               {"name": "z", "kind": "line", "points": [[0, 0], [1, 1]]}], "Deux zones"),
    ("zones", [{"name": "l", "kind": "arc", "points": [[0, 0], [1, 1]]}], "type"),
    ("zones", [{"name": "d", "points": [[0, 0], [1, 0], [1, 1]], "direction": [0, 0]}],
     "direction"),
    ("masks", [[[0, 0], [1, 0]]], "Masque 1"),
    ("masks", "partout", "liste"),
])
def test_bad_zones_and_masks_are_refused_in_french(field, value, message):
    with pytest.raises(ValidationError, match=message):
        camera(**{field: value}).full_clean()


def test_analytics_must_name_known_rules_and_zones():
    zones = [{"name": "parvis", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}]

    with pytest.raises(ValidationError, match="Analyse inconnue"):
        camera(zones=zones, analytics={"reconnaissance_faciale": {}}).full_clean()
    with pytest.raises(ValidationError, match="zone"):
        camera(zones=zones, analytics={"density": {"zones": ["quai"]}}).full_clean()
    camera(zones=zones, analytics={"density": {"zones": ["parvis"]}}).full_clean()


def test_the_console_layer_never_shows_the_stream_address(api, people, city):
    item = camera(analytics={"intrusion": {}}, sensitive=True)
    item.save()

    staff = api(people["operator"]).get("/api/layers/cameras.geojson")
    liaison = api(people["liaison_pn"]).get("/api/layers/cameras.geojson").json()

    (feature,) = staff.json()["features"]
    assert feature["id"] == f"camera-{item.pk}"
    assert feature["properties"]["analytics"] == ["intrusion"]
    assert feature["properties"]["sensitive"] is True
    assert "secret" not in staff.content.decode() and "rtsp" not in staff.content.decode()
    assert liaison["features"] == []
