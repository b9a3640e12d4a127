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
                                             {"action": "raise", "reason": "Fin du marché"},
                                             content_type="application/json").json()

    own = api(people["supervisor"]).post(f"/api/device-commands/{command['id']}/approve/")
    operator = api(people["operator"]).post(f"/api/device-commands/{command['id']}/approve/")
    approved = api(other).post(f"/api/device-commands/{command['id']}/approve/")
    again = api(other).post(f"/api/device-commands/{command['id']}/reject/", {"reason": "x"},
                                content_type="application/json")

    assert own.status_code == operator.status_code == 403
    assert approved.status_code == 200 and approved.json()["status"] == "requested"
    assert again.status_code == 409


def test_a_critical_command_needs_its_reason(api, people, make_device, city, categories):
    from incidents.models import Category
    from incidents.services.incidents import incident_create

    bollard = make_device("borne-motif", kind="bollard", place=DARCY)
    client = api(people["operator"])
    url = f"/api/devices/{bollard.pk}/commands/"

    missing = client.post(url, {"action": "lower"}, content_type="application/json")
    blank = client.post(url, {"action": "lower", "reason": "   "},
                        content_type="application/json")
    assert missing.status_code == blank.status_code == 400
    assert "motif" in missing.json()["fields"]["reason"][0]
    assert not Command.objects.exists()
    # A command that is not critical needs none.
    light = make_device("lum-motif", place=DARCY)
    assert client.post(f"/api/devices/{light.pk}/commands/", {"action": "on"},
                       content_type="application/json").status_code == 201

    incident = incident_create(by=people["operator"], category=Category.objects.get(code="rixe"),
                               title="Rixe place Darcy", lat=DARCY[0], lon=DARCY[1])
    created = client.post(url, {"action": "lower", "reason": "Passage des secours",
                                "incident": incident.pk}, content_type="application/json")
    assert created.status_code == 201, created.content

    # The supervisor's list says who asks, for which incident, what in words, and why.
    waiting = api(people["supervisor"]).get(
        "/api/device-commands/?status=awaiting_approval").json()["results"]
    assert len(waiting) == 1
    shown = waiting[0]
    assert shown["requested_by"] == people["operator"].username
    assert shown["requested_by_name"]
    assert shown["incident_reference"] == incident.reference
    assert shown["incident_title"] == "Rixe place Darcy"
    assert shown["device_name"] == bollard.name
    assert shown["action_label"] == "Abaisser la borne"
    assert shown["request_reason"] == "Passage des secours"


def test_a_refusal_reaches_the_requester_with_its_reason(api, people, make_device):
    from controlroom.models import Event

    siren = make_device("sirene-motif", kind="siren", place=DARCY)
    command = api(people["operator"]).post(
        f"/api/devices/{siren.pk}/commands/",
        {"action": "sound", "params": {"pattern": "essai"}, "reason": "Essai"},
        content_type="application/json").json()
    supervisor = api(people["supervisor"])

    empty = supervisor.post(f"/api/device-commands/{command['id']}/reject/", {"reason": ""},
                            content_type="application/json")
    assert empty.status_code == 400
    refused = supervisor.post(f"/api/device-commands/{command['id']}/reject/",
                              {"reason": "Pas d'essai pendant le marché"},
                              content_type="application/json")
    assert refused.status_code == 200
    assert refused.json()["reason"] == "Pas d'essai pendant le marché"

    # The requester reads it from the command, and the live event carries it to their console.
    mine = api(people["operator"]).get(f"/api/device-commands/{command['id']}/").json()
    assert mine["status"] == "rejected" and mine["reason"] == "Pas d'essai pendant le marché"
    assert mine["decided_by_name"]
    event = Event.objects.get(type="device_command.rejected")
    assert event.payload["reason"] == "Pas d'essai pendant le marché"
    assert event.payload["requested_by"] == people["operator"].username
    assert event.payload["decided_by_name"]


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
