"""A closed crisis closes its story too: the journal (events API and the socket's replay) reads
events about an object under the object's own access rule."""

import pytest
from asgiref.sync import sync_to_async

from incidents.services import crises
from tests.controlroom.live_clients import open_socket
from tests.incidents.conftest import REPUBLIQUE


def open_flood(people, agencies, make_incident):
    incident = make_incident(place=REPUBLIQUE)
    flood = crises.crisis_open(by=people["supervisor"], kind="flood", title="Crue de l'Ouche",
                               incidents=[incident], agencies=[agencies["sdis"]])
    crises.log_add(crisis=flood, by=people["supervisor"], text="Digue fragile rue Bossuet.")
    return flood


def crisis_types(client):
    response = client.get("/api/events/?after=0")
    assert response.status_code == 200
    return [e["type"] for e in response.json()["results"] if e["type"].startswith("crisis.")]


@pytest.mark.django_db
def test_a_liaison_reads_the_crisis_journal_while_invited_and_no_longer_once_closed(
        api, people, agencies, make_incident):
    flood = open_flood(people, agencies, make_incident)
    liaison = people["liaison_sdis"]
    assert "crisis.log_added" in crisis_types(api(liaison))

    crises.crisis_close(crisis=flood, by=people["supervisor"], summary="Décrue.")
    assert crisis_types(api(liaison)) == []
    # The control room's staff still read the whole story.
    assert {"crisis.opened", "crisis.log_added", "crisis.closed"} <= set(
        crisis_types(api(people["operator"])))


@pytest.mark.django_db
def test_the_incident_timeline_follows_the_incidents_own_rule(people, agencies, make_incident):
    from controlroom import selectors as journal_reads
    from incidents.services import incidents as incident_services

    incident = make_incident()
    incident_services.incident_agency_add(incident=incident, agency=agencies["pn"],
                                          by=people["operator"])
    viewer = journal_reads.viewer_for(people["liaison_pn"])
    assert journal_reads.events_visible_to(viewer=viewer).filter(
        subject_model="incident", subject_id=str(incident.pk)).exists()


async def receive_until_ready(socket):
    events = []
    while True:
        message = await socket.receive_json_from(timeout=10)
        if message["kind"] == "ready":
            return events
        events.append(message)


@pytest.mark.django_db(transaction=True)
async def test_the_sockets_replay_leaves_out_a_closed_crisis(people, agencies, make_incident):
    flood = await sync_to_async(open_flood)(people, agencies, make_incident)
    socket, connected, _ = await open_socket(people["liaison_sdis"], after=0)
    assert connected
    assert any(e["type"] == "crisis.log_added" for e in await receive_until_ready(socket))
    await socket.disconnect()

    await sync_to_async(crises.crisis_close)(crisis=flood, by=people["supervisor"])
    socket, connected, _ = await open_socket(people["liaison_sdis"], after=0)
    assert connected
    assert [e["type"] for e in await receive_until_ready(socket)
            if e["type"].startswith("crisis.")] == []
    await socket.disconnect()
