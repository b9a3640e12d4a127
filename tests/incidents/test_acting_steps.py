"""Dispatch follows the procedure, and steps that act are done by acting: a dispatch step
offers units of its kind, any available unit can be searched and engaged from it, and such a
step is "done" with the unit as evidence, or with the reason why not."""

import pytest
from django.core.exceptions import ValidationError

from controlroom.models import Event
from demo.procedures import load_demo_procedures
from incidents import reports, selectors
from incidents.models import Assignment, StepRun, Unit
from incidents.services import incidents as incident_services
from incidents.services import procedures
from tests.incidents.conftest import DARCY, GARE, REPUBLIQUE, TOISON

pytestmark = pytest.mark.django_db

# A few tens of metres from place Darcy.
BESIDE_DARCY = (DARCY[0] + 0.0003, DARCY[1])


@pytest.fixture
def collapse(city, categories, people):
    """A person on the ground at place Darcy: its demo procedure asks for an ambulance, then a
    foot patrol."""
    load_demo_procedures()
    return incident_services.incident_create(
        by=people["operator"], category=categories["personne_au_sol"], title="Personne au sol",
        lat=DARCY[0], lon=DARCY[1], priority=2)


@pytest.fixture
def fleet(make_unit):
    return {
        "foot": make_unit("PP-1", kind="foot_patrol", place=BESIDE_DARCY),
        "car": make_unit("PM-1", kind="patrol_car", place=BESIDE_DARCY),
        "amb_far": make_unit("AMB-2", kind="ambulance", place=TOISON, agency="pm"),
        "amb_near": make_unit("AMB-1", kind="ambulance", place=GARE, agency="pm"),
        "fire": make_unit("FPT-1", kind="fire_engine", place=REPUBLIQUE),
    }


def step(incident, key) -> StepRun:
    return StepRun.objects.get(run__incident=incident, run__status="active", key=key)


def test_suggestions_follow_the_dispatch_step_kind_nearest_first(collapse, fleet):
    found = selectors.incident_suggestions(incident=collapse)
    assert [s.unit.call_sign for s in found] == ["AMB-1", "AMB-2"]
    # Asked for the foot patrol step: foot patrols only.
    found = selectors.incident_suggestions(incident=collapse, step=step(collapse, "patrouille"))
    assert [s.unit.call_sign for s in found] == ["PP-1"]


def test_any_available_unit_can_be_searched_by_call_sign_kind_or_agency(collapse, fleet):
    def search(query):
        return [s.unit.call_sign for s in
                selectors.units_available_search(incident=collapse, query=query)]

    assert search("ambul") == ["AMB-1", "AMB-2"]
    assert search("fpt") == ["FPT-1"]
    assert search("incendie") == ["FPT-1"]  # the kind's label
    agency = fleet["car"].agency
    assert "PM-1" in search(agency.name.split()[0])
    assert search("")[0] in ("PP-1", "PM-1")  # everything, nearest first
    Unit.objects.filter(pk=fleet["fire"].pk).update(status="unavailable")
    assert search("fpt") == []


def test_a_dispatch_step_is_done_by_engaging_the_chosen_unit(collapse, fleet, people):
    ambulance_step = step(collapse, "ambulance")
    # The operator chose the fire engine for the ambulance step (none nearer): it goes.
    procedures.step_complete(step=ambulance_step, by=people["operator"], unit=fleet["fire"])
    ambulance_step.refresh_from_db()
    assert ambulance_step.status == "done"
    assert ambulance_step.evidence["action"] == "unit_assigned"
    assert ambulance_step.evidence["call_sign"] == "FPT-1"
    assignment = Assignment.objects.get(unit=fleet["fire"], incident=collapse)
    assert ambulance_step.evidence["assignment"] == assignment.pk
    assert step(collapse, "patrouille").status == "pending"
    done = Event.objects.filter(type="procedure.step_done").latest("seq")
    assert done.payload["evidence"]["call_sign"] == "FPT-1"


def test_a_unit_that_cannot_go_leaves_the_step_pending(collapse, fleet, people):
    Unit.objects.filter(pk=fleet["amb_near"].pk).update(status="en_route")
    with pytest.raises(Exception, match="disponible"):
        procedures.step_complete(step=step(collapse, "ambulance"), by=people["operator"],
                                 unit=fleet["amb_near"])
    assert step(collapse, "ambulance").status == "pending"
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("key", ["cameras", "ambulance"])
def test_a_step_that_acts_is_not_done_on_a_click(collapse, people, key):
    with pytest.raises(ValidationError) as refused:
        procedures.step_complete(step=step(collapse, key), by=people["operator"])
    assert "reason" in refused.value.message_dict
    assert step(collapse, key).status == "pending"


def test_without_its_action_a_step_records_why_in_the_journal_and_the_report(collapse,
                                                                               people):
    cameras = step(collapse, "cameras")
    procedures.step_complete(step=cameras, by=people["operator"],
                             reason="Aucune caméra ne couvre la place")
    cameras.refresh_from_db()
    assert cameras.status == "done"
    assert cameras.evidence == {"action": "none", "reason": "Aucune caméra ne couvre la place"}
    event = Event.objects.filter(type="procedure.step_done").latest("seq")
    assert event.payload["without_action"] is True
    assert event.payload["reason"] == "Aucune caméra ne couvre la place"
    [run] = reports.compliance(collapse, cameras.done_at)
    row = next(s for s in run["steps"] if s["step"].key == "cameras")
    assert row["evidence"] == "Sans action : Aucune caméra ne couvre la place"
    assert run["counts"]["without_action"] == 1


def test_the_report_names_the_unit_engaged(collapse, fleet, people):
    procedures.step_complete(step=step(collapse, "ambulance"), by=people["operator"],
                             unit=fleet["amb_near"])
    [run] = reports.compliance(collapse, step(collapse, "cameras").run.started_at)
    row = next(s for s in run["steps"] if s["step"].key == "ambulance")
    assert "AMB-1" in row["evidence"] and "Ambulance" in row["evidence"]


def test_a_checklist_step_is_still_done_on_a_click(collapse, people):
    procedures.step_complete(step=step(collapse, "grand-froid"), by=people["operator"])
    assert step(collapse, "grand-froid").status == "done"


# --- the API ------------------------------------------------------------------------------------
def test_the_api_suggests_by_step_searches_and_engages_from_a_step(collapse, fleet, people,
                                                                     api):
    client = api(people["operator"])
    base = f"/api/incidents/{collapse.pk}"
    suggested = client.get(f"{base}/suggestions/")
    assert [s["unit"]["call_sign"] for s in suggested.json()] == ["AMB-1", "AMB-2"]
    patrol = step(collapse, "patrouille")
    by_step = client.get(f"{base}/suggestions/?step={patrol.pk}")
    assert [s["unit"]["call_sign"] for s in by_step.json()] == ["PP-1"]
    assert client.get(f"{base}/suggestions/?step=nope").status_code == 400
    assert client.get(f"{base}/suggestions/?step=999999").status_code == 404
    found = client.get(f"{base}/available-units/?q=fpt")
    assert [s["unit"]["call_sign"] for s in found.json()] == ["FPT-1"]

    refused = client.post(f"/api/procedure-steps/{patrol.pk}/complete/", {},
                          content_type="application/json")
    assert refused.status_code == 400 and "reason" in str(refused.json())
    done = client.post(f"/api/procedure-steps/{patrol.pk}/complete/",
                       {"unit": fleet["car"].pk}, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    assert done.json()["evidence"]["call_sign"] == "PM-1"
    assert Unit.objects.get(pk=fleet["car"].pk).status == "en_route"


def test_the_report_page_shows_each_step_evidence(collapse, fleet, people, api):
    procedures.step_complete(step=step(collapse, "ambulance"), by=people["operator"],
                             unit=fleet["amb_near"])
    procedures.step_complete(step=step(collapse, "cameras"), by=people["operator"],
                             reason="Aucune caméra ne couvre la place")
    html = api(people["supervisor"]).get(f"/incidents/{collapse.pk}/compte-rendu/").content.decode()
    assert "Unité AMB-1 engagée (Ambulance" in html
    assert "Sans action : Aucune caméra ne couvre la place" in html
    assert "1 faites sans action" in html
