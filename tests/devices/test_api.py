"""The devices API: wiring, permissions, clear JSON errors, group results, the map layer."""

import pytest

from devices.models import Command
from tests.devices.conftest import DARCY

pytestmark = pytest.mark.django_db


def test_an_operator_commands_a_device_and_reads_the_command(api, people, make_device):
    light = make_device("lum-api")
    client = api(people["operator"])

    created = client.post(f"/api/devices/{light.pk}/commands/",
                          {"action": "set_level", "params": {"level": 30}}, content_type="application/json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "requested" and body["params"] == {"level": 30}
    assert client.get(f"/api/device-commands/{body['id']}/").json()["uid"] == body["uid"]
    listing = client.get("/api/devices/", {"kind": "street_light"}).json()
    assert listing["results"][0]["actions"]["set_level"]["params"] == ["level"]


def test_bad_input_is_a_clear_json_error_and_writes_nothing(api, people, make_device):
    light = make_device("lum-bad")

    response = api(people["operator"]).post(f"/api/devices/{light.pk}/commands/",
                                            {"action": "set_level", "params": {"level": -5}},
                                            content_type="application/json")

    assert response.status_code == 400
    assert "entre 0 et 100" in str(response.json())
    assert not Command.objects.exists()


def test_approval_over_the_api_follows_the_two_person_rule(api, people, make_device, agencies):
    from controlroom import services as config

    other = config.user_ensure(username="sup-b", password="x-very-long-pass", role="supervisor",
                               agency=agencies["pm"])
    bollard = make_device("borne-api", kind="bollard")
    command = api(people["supervisor"]).post(f"/api/devices/{bollard.pk}/commands/",
                                             {"action": "raise"}, content_type="application/json").json()

    own = api(people["supervisor"]).post(f"/api/device-commands/{command['id']}/approve/")
    operator = api(people["operator"]).post(f"/api/device-commands/{command['id']}/approve/")
    approved = api(other).post(f"/api/device-commands/{command['id']}/approve/")
    again = api(other).post(f"/api/device-commands/{command['id']}/reject/", {"reason": "x"},
                                content_type="application/json")

    assert own.status_code == operator.status_code == 403
    assert approved.status_code == 200 and approved.json()["status"] == "requested"
    assert again.status_code == 409


def test_a_group_command_in_a_sector(api, people, make_device):
    lights = [make_device(f"lum-s{i}", place=DARCY) for i in range(2)]

    response = api(people["operator"]).post("/api/device-command-groups/", {
        "kind": "street_light", "action": "on", "sector": lights[0].sector_id,
    }, content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["results"] == {"requested": 2}
    assert {c["device_code"] for c in body["commands"]} == {"lum-s0", "lum-s1"}


def test_liaisons_see_no_devices_and_cannot_command(api, people, make_device):
    light = make_device("lum-liaison")
    client = api(people["liaison_pn"])

    assert client.get("/api/devices/").json()["results"] == []
    assert client.post(f"/api/devices/{light.pk}/commands/", {"action": "on"},
                       content_type="application/json").status_code == 404
    assert client.get("/api/layers/devices.geojson").json()["features"] == []


def test_the_devices_layer(api, people, make_device):
    light = make_device("lum-layer", state={"on": True, "level": 80})

    collection = api(people["operator"]).get("/api/layers/devices.geojson").json()

    (feature,) = collection["features"]
    assert feature["id"] == f"device-{light.pk}"
    assert feature["properties"]["device_kind"] == "street_light"
    assert feature["properties"]["state"] == {"on": True, "level": 80}


def test_device_labels_follow_the_interface_language():
    from django.utils import translation

    from console.views.console import device_kinds

    with translation.override("en"):
        english = device_kinds()["street_light"]
    with translation.override("fr"):
        french = device_kinds()["street_light"]

    assert (english["label"], english["actions"]["set_level"]["label"]) == (
        "Street light", "Set the level")
    assert english["actions"]["set_level"]["params"]["level"]["label"] == "level (%)"
    assert french["label"] == "Éclairage public"
