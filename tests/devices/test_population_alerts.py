"""Population alerts: drafted, issued by a supervisor, valid CAP 1.2 against the OASIS schema,
updates and cancellations referencing the original, the Atom feed, broadcast to the area's
panels and sirens, and the "télé-alerte" by e-mail and webhook."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from xml.etree import ElementTree

import pytest
import xmlschema
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from controlroom.errors import StateConflict
from controlroom.models import Event
from devices.models import AlertRecipient, Command, PopulationAlert
from devices.services import population
from tests.conftest import CAP_SCHEMA
from tests.devices.conftest import DARCY, REPUBLIQUE

pytestmark = pytest.mark.django_db
SCHEMA = xmlschema.XMLSchema(CAP_SCHEMA)
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@pytest.fixture
def centre(make_device):
    """The sector of place Darcy, with two panels and a siren in it and a panel elsewhere."""
    panel = make_device("pmv-darcy", kind="message_panel", place=DARCY)
    make_device("pmv-darcy-2", kind="message_panel", place=DARCY)
    make_device("sirene-darcy", kind="siren", place=DARCY)
    make_device("pmv-ailleurs", kind="message_panel", place=REPUBLIQUE)
    return panel.sector


def draft(by, area, **changes):
    fields = dict(event="Inondation", urgency="Immediate", severity="Severe",
                  certainty="Observed", headline="Crue de l'Ouche : évitez les berges",
                  description="Montée rapide des eaux le long de l'Ouche.",
                  instruction="Éloignez-vous des berges. Ne prenez pas votre véhicule.",
                  sector=area, expires=timezone.now() + timedelta(hours=6),
                  siren_pattern="alerte")
    fields.update(changes)
    return population.population_alert_draft(by=by, **fields)


def test_an_issued_alert_is_valid_cap_and_public(client, people, centre):
    alert = population.population_alert_issue(alert=draft(people["operator"], centre),
                                              by=people["supervisor"])

    response = client.get(f"/cap/{alert.identifier}.xml")

    assert response.status_code == 200 and response["Content-Type"] == "application/cap+xml"
    SCHEMA.validate(response.content)
    root = ElementTree.fromstring(response.content)
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:info/cap:headline", namespaces=NS) == alert.headline
    assert root.find("cap:info/cap:area/cap:polygon", namespaces=NS) is not None
    assert "Z<" not in response.content.decode()
    assert Event.objects.filter(type="population_alert.issued").exists()


def test_update_and_cancel_reference_the_message_before(client, people, centre):
    original = population.population_alert_issue(alert=draft(people["operator"], centre),
                                                 by=people["supervisor"])
    update = population.population_alert_issue(alert=population.population_alert_follow_up(
        original=original, by=people["operator"], msg_type="Update",
        headline="Crue de l'Ouche : décrue amorcée", severity="Moderate"), by=people["supervisor"])
    cancel = population.population_alert_issue(alert=population.population_alert_follow_up(
        original=original, by=people["operator"], msg_type="Cancel"), by=people["supervisor"])

    def reference(previous):
        return (f"{population.settings.CAP_SENDER},{previous.identifier},"
                f"{timezone.localtime(previous.sent).isoformat()}")

    # Every earlier message of the chain, the original Alert included.
    for message, earlier in ((update, [original]), (cancel, [original, update])):
        body = client.get(f"/cap/{message.identifier}.xml").content
        SCHEMA.validate(body)
        root = ElementTree.fromstring(body)
        assert root.findtext("cap:msgType", namespaces=NS) == message.msg_type
        assert root.findtext("cap:references", namespaces=NS) == " ".join(
            reference(previous) for previous in earlier)
    with pytest.raises(ValidationError, match="déjà été annulée"):
        population.population_alert_follow_up(original=original, by=people["operator"],
                                              msg_type="Update")


def test_the_atom_feed_lists_issued_messages_only(client, people, centre):
    issued = population.population_alert_issue(alert=draft(people["operator"], centre),
                                               by=people["supervisor"])
    draft(people["operator"], centre, headline="Brouillon non diffusé")

    response = client.get("/cap/flux.atom")

    root = ElementTree.fromstring(response.content)
    atom = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", atom)
    assert response["Content-Type"].startswith("application/atom+xml")
    assert len(entries) == 1
    link = entries[0].find("a:link", atom)
    assert link.get("type") == "application/cap+xml"
    assert link.get("href").endswith(f"/cap/{issued.identifier}.xml")


def test_issuing_commands_the_panels_and_sirens_of_the_area(people, centre):
    alert = population.population_alert_issue(alert=draft(people["operator"], centre),
                                              by=people["supervisor"])

    commands = {c.device.code: c for c in Command.objects.select_related("device")}
    assert set(commands) == {"pmv-darcy", "pmv-darcy-2", "sirene-darcy"}
    assert commands["pmv-darcy"].params["lines"] == population.panel_lines(alert.headline)
    assert all(len(line) <= 20 for line in commands["pmv-darcy"].params["lines"])
    siren = commands["sirene-darcy"]
    # Drafted by the operator, issued by the supervisor: two persons, so the siren goes.
    assert siren.critical and siren.status == "requested"
    assert siren.requested_by == people["operator"] and siren.approved_by == people["supervisor"]


def test_sirens_still_need_a_second_person_when_one_supervisor_does_both(people, centre):
    population.population_alert_issue(alert=draft(people["supervisor"], centre),
                                      by=people["supervisor"])

    siren = Command.objects.get(device__code="sirene-darcy")
    assert siren.status == "awaiting_approval"


def test_cancelling_clears_the_panels_and_stops_the_sirens(people, centre):
    original = population.population_alert_issue(alert=draft(people["operator"], centre),
                                                 by=people["supervisor"])
    Command.objects.all().delete()

    population.population_alert_issue(alert=population.population_alert_follow_up(
        original=original, by=people["operator"], msg_type="Cancel"), by=people["supervisor"])

    actions = dict(Command.objects.values_list("device__code", "action"))
    assert actions == {"pmv-darcy": "clear", "pmv-darcy-2": "clear", "sirene-darcy": "stop"}


def test_only_supervisors_issue_and_only_once(people, centre):
    alert = draft(people["operator"], centre)

    with pytest.raises(PermissionDenied):
        population.population_alert_issue(alert=alert, by=people["operator"])
    with pytest.raises(PermissionDenied):
        draft(people["liaison_pn"], centre)
    population.population_alert_issue(alert=alert, by=people["supervisor"])
    with pytest.raises(StateConflict):
        population.population_alert_issue(alert=alert, by=people["supervisor"])


@pytest.mark.parametrize("changes, message", [
    ({"expires": timezone.now() - timedelta(minutes=1)}, "futur"),
    ({"severity": "Apocalyptic"}, "severity"),
    ({"sector": None}, "zone"),
    ({"sector": None, "polygon": [[47.3, 5.0], [47.31, 5.0], [47.31, 5.01]]}, "fermé"),
    ({"headline": ""}, "headline"),
])
def test_bad_drafts_are_refused_and_nothing_is_written(people, centre, changes, message):
    with pytest.raises(ValidationError, match=message):
        draft(people["operator"], centre, **changes)
    assert not PopulationAlert.objects.exists()


def test_a_polygon_area_reaches_the_devices_inside_it(people, centre):
    lat, lon = DARCY
    ring = [[lat - 0.001, lon - 0.001], [lat - 0.001, lon + 0.001], [lat + 0.001, lon + 0.001],
            [lat + 0.001, lon - 0.001], [lat - 0.001, lon - 0.001]]
    alert = draft(people["operator"], None, sector=None, polygon=ring, area_name="Place Darcy",
                  siren_pattern="")

    population.population_alert_issue(alert=alert, by=people["supervisor"])

    assert set(Command.objects.values_list("device__code", flat=True)) == {"pmv-darcy",
                                                                           "pmv-darcy-2"}


class _Hook(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        _Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_recipients_get_the_alert_by_email_and_webhook(people, centre, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    AlertRecipient.objects.create(name="Préfecture", email="cod@prefecture.example")
    AlertRecipient.objects.create(name="Radio locale",
                                  webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
    AlertRecipient.objects.create(name="Injoignable", webhook_url="http://127.0.0.1:1/hook")
    alert = population.population_alert_issue(alert=draft(people["operator"], centre),
                                              by=people["supervisor"])
    _Hook.received.clear()
    try:
        results = population.population_alert_notify(alert_id=alert.pk)
    finally:
        server.shutdown()

    assert results == {"email": 1, "webhook": 1, "failed": ["Injoignable"]}
    assert mail.outbox[-1].to == ["cod@prefecture.example"]
    assert alert.headline in mail.outbox[-1].subject
    assert _Hook.received[0]["identifier"] == alert.identifier
    assert _Hook.received[0]["cap_url"].endswith(f"/cap/{alert.identifier}.xml")


def test_the_api_drafts_issues_and_cancels(api, people, centre):
    body = {"event": "Canicule", "urgency": "Expected", "severity": "Moderate",
            "certainty": "Likely", "headline": "Canicule : buvez de l'eau",
            "description": "Fortes chaleurs attendues.", "instruction": "Hydratez-vous.",
            "sector": centre.pk, "expires": (timezone.now() + timedelta(days=1)).isoformat()}

    created = api(people["operator"]).post("/api/population-alerts/", body,
                                           content_type="application/json")
    refused = api(people["operator"]).post(f"/api/population-alerts/{created.json()['id']}/issue/")
    issued = api(people["supervisor"]).post(f"/api/population-alerts/{created.json()['id']}/issue/")
    cancel = api(people["operator"]).post(f"/api/population-alerts/{created.json()['id']}/cancel/")

    assert created.status_code == 201, created.content
    assert refused.status_code == 403
    assert issued.status_code == 200 and issued.json()["cap_url"].startswith("/cap/")
    assert cancel.status_code == 201 and cancel.json()["msg_type"] == "Cancel"
    assert cancel.json()["references"] == created.json()["id"]


def test_an_alert_drafted_from_a_procedure_step_completes_it_with_the_draft(people, centre,
                                                                             make_incident_at):
    from demo.procedures import load_demo_procedures
    from incidents.models import StepRun

    load_demo_procedures()
    incident = make_incident_at(DARCY, category="incendie", priority=1)
    step = StepRun.objects.get(run__incident=incident, key="alerte")
    other = StepRun.objects.get(run__incident=incident, key="sirene")

    with pytest.raises(ValidationError, match="n'est pas l'alerte"):
        draft(people["operator"], centre, incident=incident, step=other)
    drafted = draft(people["operator"], centre, incident=incident, step=step)
    step.refresh_from_db()
    assert step.status == "done" and drafted.headline in step.note
    assert step.evidence["action"] == "population_alert_drafted"
    assert step.evidence["population_alert"] == drafted.pk
    alert = population.population_alert_issue(alert=drafted, by=people["supervisor"])
    assert alert.identifier  # issuing stays a supervisor's act, after the step
