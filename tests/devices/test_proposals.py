"""Procedure steps that command devices: the proposal on the nearest devices, its confirmation,
and the check of the step's settings when procedures are imported."""

import pytest
from django.core.exceptions import ValidationError

from demo.procedures import load_demo_procedures
from devices.models import Command
from devices.services import proposals
from incidents.models import StepRun
from incidents.procedure_yaml import params_problems
from tests.devices.conftest import DARCY, REPUBLIQUE

pytestmark = pytest.mark.django_db


@pytest.fixture
def fire(make_incident_at, categories):
    """A small fire at place Darcy: its demo procedure has a "street lights at 100 %" step."""
    load_demo_procedures()
    incident = make_incident_at(DARCY, category="incendie", priority=3)
    return StepRun.objects.get(run__incident=incident, key="eclairage")


def test_the_step_proposes_the_command_on_the_nearest_devices(fire, make_device):
    near = make_device("lum-near", place=(DARCY[0] + 0.0005, DARCY[1]))
    nearest = make_device("lum-nearest", place=(DARCY[0] + 0.0001, DARCY[1]))
    make_device("lum-far", place=REPUBLIQUE)
    make_device("pmv-near", kind="message_panel")

    proposal = proposals.step_proposal(step=fire).as_dict()

    assert (proposal["device_kind"], proposal["action"], proposal["params"]) == (
        "street_light", "set_level", {"level": 100})
    assert [d["code"] for d in proposal["devices"]] == [nearest.code, near.code]
    assert proposal["devices"][0]["distance_m"] == pytest.approx(11, abs=2)
    assert not proposal["critical"]


def test_confirming_sends_the_group_command_and_completes_the_step(fire, make_device, people):
    make_device("lum-a", place=(DARCY[0] + 0.0002, DARCY[1]))
    make_device("lum-b", place=(DARCY[0] - 0.0002, DARCY[1]))

    group = proposals.step_proposal_confirm(step=fire, by=people["operator"])

    fire.refresh_from_db()
    assert fire.status == "done" and f"n° {group.pk}" in fire.note
    assert set(Command.objects.values_list("device__code", "action")) == {
        ("lum-a", "set_level"), ("lum-b", "set_level")}
    assert set(Command.objects.values_list("incident", flat=True)) == {fire.run.incident_id}


def test_no_device_nearby_is_a_clear_refusal_and_the_step_stays_pending(fire, make_device,
                                                                          people):
    make_device("lum-far", place=REPUBLIQUE)

    with pytest.raises(ValidationError, match="Aucun équipement"):
        proposals.step_proposal_confirm(step=fire, by=people["operator"])
    fire.refresh_from_db()
    assert fire.status == "pending" and not Command.objects.exists()


def test_the_api_proposes_and_confirms(fire, make_device, api, people):
    make_device("lum-api", place=DARCY)
    url = f"/api/procedure-steps/{fire.pk}/device-proposal/"

    proposal = api(people["operator"]).get(url)
    confirmed = api(people["operator"]).post(url)
    again = api(people["operator"]).post(url)

    assert proposal.status_code == 200 and proposal.json()["devices"][0]["code"] == "lum-api"
    assert confirmed.status_code == 201 and confirmed.json()["results"] == {"requested": 1}
    assert again.status_code == 409  # the step is done
    assert api(people["liaison_pn"]).get(url).status_code == 404


@pytest.mark.parametrize("params, message", [
    ({"device_kind": "lighting", "command": "full_power"}, "Type d'équipement inconnu"),
    ({"device_kind": "street_light", "command": "set_level", "params": {"level": 300}},
     "entre 0 et 100"),
    ({"device_kind": "message_panel", "command": "show",
      "params": {"lines": ["UNE LIGNE BEAUCOUP TROP LONGUE"]}}, "20 caractères"),
    ({"device_kind": "street_light", "command": "on", "radius_m": 0}, "radius_m"),
    ({"device_kind": "noise_sensor", "command": "on"}, "ne reçoit pas"),
])
def test_procedure_imports_check_device_steps(params, message):
    problems = params_problems("device_command", params)

    assert problems and message in problems[0]


def test_the_step_keeps_the_commands_as_evidence_and_the_report_their_final_state(
        fire, make_device, people):
    from incidents import reports

    make_device("lum-a", place=(DARCY[0] + 0.0002, DARCY[1]))
    group = proposals.step_proposal_confirm(step=fire, by=people["operator"])
    fire.refresh_from_db()
    assert fire.evidence["action"] == "device_command"
    assert fire.evidence["command_group"] == group.pk
    [item] = fire.evidence["commands"]
    assert item["device"] == "lum-a"
    # The device answered since: the report gives the state the command reached.
    Command.objects.update(status=Command.Status.DONE)

    [run] = reports.compliance(fire.run.incident, fire.done_at)
    row = next(s for s in run["steps"] if s["step"].key == "eclairage")
    assert "Lum A" in row["evidence"]
    assert f"Lum A : {Command.objects.get().get_status_display()}" in row["evidence"]


def test_a_device_step_is_not_done_on_a_click(fire, people):
    from incidents.services import procedures

    with pytest.raises(ValidationError, match="pourquoi"):
        procedures.step_complete(step=fire, by=people["operator"])
    fire.refresh_from_db()
    assert fire.status == "pending" and not Command.objects.exists()


def test_a_critical_step_command_needs_the_operators_reason(make_incident_at, categories,
                                                            make_device, api, people):
    load_demo_procedures()
    incident = make_incident_at(REPUBLIQUE, category="rassemblement")
    step = StepRun.objects.get(run__incident=incident, key="bornes")
    make_device("borne-rep", kind="bollard", place=REPUBLIQUE)
    url = f"/api/procedure-steps/{step.pk}/device-proposal/"
    client = api(people["operator"])
    assert client.get(url).json()["critical"]

    refused = client.post(url, {}, content_type="application/json")
    assert refused.status_code == 400 and "motif" in str(refused.json()["fields"]["reason"])
    step.refresh_from_db()
    assert step.status == "pending" and not Command.objects.exists()

    confirmed = client.post(url, {"reason": "Rodéos signalés rue de la Liberté"},
                            content_type="application/json")
    assert confirmed.status_code == 201, confirmed.content
    command = Command.objects.get()
    assert command.status == "awaiting_approval"
    assert command.request_reason == "Rodéos signalés rue de la Liberté"
