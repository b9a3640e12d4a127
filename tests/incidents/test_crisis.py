"""The crisis room: access for invited agencies while it lasts, the logbook that never changes,
the shared map, decisions and tasks, closing and its report."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from controlroom.errors import StateConflict
from controlroom.models import Event
from incidents.models import Crisis, LogEntry, Task
from incidents.services import crises
from tests.incidents.conftest import GARE, REPUBLIQUE

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[
    [5.040, 47.323], [5.050, 47.323], [5.050, 47.330], [5.040, 47.330], [5.040, 47.323]]]}


@pytest.fixture
def flood(people, agencies, make_incident):
    incident = make_incident(place=REPUBLIQUE)
    return crises.crisis_open(by=people["supervisor"], kind="flood", title="Crue de l'Ouche",
                              area=SQUARE, incidents=[incident], agencies=[agencies["sdis"]])


def test_only_supervisors_open_a_crisis(people, city):
    with pytest.raises(PermissionDenied):
        crises.crisis_open(by=people["operator"], kind="flood", title="Crue")
    with pytest.raises(ValidationError) as error:
        crises.crisis_open(by=people["supervisor"], kind="flood", title="  ")
    assert "title" in error.value.message_dict
    assert not Crisis.objects.exists()


def test_invited_liaisons_take_part_while_the_crisis_is_open(api, people, agencies, flood):
    sdis, pn = people["liaison_sdis"], people["liaison_pn"]
    assert crises.may_take_part(sdis, flood) and not crises.may_take_part(pn, flood)
    assert api(sdis).get(f"/api/crises/{flood.pk}/").status_code == 200
    assert api(pn).get(f"/api/crises/{flood.pk}/").status_code == 404
    # Granted by an invitation, journaled for that agency to see.
    granted = Event.objects.get(type="crisis.access_granted")
    assert granted.payload["agency"] == agencies["sdis"].pk
    assert agencies["sdis"].pk in granted.agencies
    crises.crisis_invite(crisis=flood, agency=agencies["pn"], by=people["supervisor"])
    assert api(pn).get(f"/api/crises/{flood.pk}/").status_code == 200

    # Closing revokes both, and says so in the journal.
    crises.crisis_close(crisis=flood, by=people["supervisor"], summary="Décrue amorcée.")
    for liaison in (sdis, pn):
        assert not crises.may_take_part(liaison, Crisis.objects.get(pk=flood.pk))
        assert api(liaison).get(f"/api/crises/{flood.pk}/").status_code == 404
        response = api(liaison).post(f"/api/crises/{flood.pk}/log/", {"text": "encore là"},
                                     content_type="application/json")
        assert response.status_code == 404
    revoked = Event.objects.filter(type="crisis.access_revoked")
    assert sorted(e.payload["agency"] for e in revoked) == sorted(
        [agencies["sdis"].pk, agencies["pn"].pk])
    assert api(people["supervisor"]).get(f"/api/crises/{flood.pk}/").json()["status"] == "closed"


def test_the_logbook_is_append_only_and_corrected_by_new_entries(people, flood):
    entry = crises.log_add(crisis=flood, by=people["liaison_sdis"],
                           text="Pompage en cours rue Berbisey")
    assert entry.agency.code == "sdis" and entry.author_label == "sdis1"
    with pytest.raises(PermissionError):
        entry.text = "autre chose"
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        LogEntry.objects.filter(pk=entry.pk).update(text="effacé")
    with pytest.raises(PermissionError):
        LogEntry.objects.filter(pk=entry.pk).delete()
    correction = crises.log_add(crisis=flood, by=people["operator"],
                                text="Correction : rue Monge, pas Berbisey", corrects=entry)
    assert LogEntry.objects.get(pk=entry.pk).text == "Pompage en cours rue Berbisey"
    assert correction.corrects == entry
    assert Event.objects.filter(type="crisis.log_added").count() == 2
    with pytest.raises(ValidationError):
        crises.log_add(crisis=flood, by=people["operator"], text="   ")
    with pytest.raises(PermissionDenied):
        crises.log_add(crisis=flood, by=people["liaison_pn"], text="Je ne suis pas invité")


def test_drawings_are_checked_shared_and_removed(api, people, flood):
    line = {"type": "LineString", "coordinates": [[5.041, 47.324], [5.045, 47.326]]}
    client = api(people["liaison_sdis"])
    response = client.post(f"/api/crises/{flood.pk}/drawings/",
                           {"kind": "closed_road", "label": "Quai fermé", "geometry": line},
                           content_type="application/json")
    assert response.status_code == 201
    feature = response.json()
    assert feature["geometry"] == line and feature["properties"]["kind"] == "closed_road"
    saved = Event.objects.get(type="crisis.drawing_saved")
    assert saved.payload["geometry"] == line
    assert saved.agencies == [flood.agencies.get().pk]
    # A closed road is a line; a point far away is refused; nothing is written.
    for body, field in (({"kind": "closed_road", "geometry": {"type": "Point",
                                                               "coordinates": [5.04, 47.32]}},
                         "geometry"),
                        ({"kind": "assembly_point", "geometry": {"type": "Point",
                                                                  "coordinates": [2.35, 48.85]}},
                         "geometry"),
                        ({"kind": "perimeter", "geometry": {"type": "Polygon",
                                                             "coordinates": [[[5.04, 47.32]]]}},
                         "geometry"),
                        ({"kind": "bunker", "geometry": line}, "kind")):
        response = client.post(f"/api/crises/{flood.pk}/drawings/", body,
                                content_type="application/json")
        assert response.status_code == 400, body
        assert field in response.json()["fields"]
    assert flood.drawings.count() == 1
    removed = client.delete(f"/api/crises/{flood.pk}/drawings/{feature['id']}/")
    assert removed.status_code == 204
    detail = client.get(f"/api/crises/{flood.pk}/").json()
    assert detail["drawings"]["features"] == []


def test_tasks_go_to_agencies_whose_liaisons_move_them_along(people, agencies, flood):
    task = crises.task_add(crisis=flood, by=people["supervisor"], kind="task",
                           title="Évacuer l'école Voltaire", agency=agencies["sdis"])
    decision = crises.task_add(crisis=flood, by=people["supervisor"], kind="decision",
                               title="Fermeture des quais")
    assert decision.status == Task.Status.DONE and task.status == Task.Status.TODO
    with pytest.raises(PermissionDenied):
        crises.task_add(crisis=flood, by=people["liaison_sdis"], kind="task", title="Moi")
    crises.task_set_status(task=task, by=people["liaison_sdis"], status="in_progress")
    assert Task.objects.get(pk=task.pk).status == "in_progress"
    crises.crisis_invite(crisis=flood, agency=agencies["pn"], by=people["supervisor"])
    with pytest.raises(PermissionDenied):
        crises.task_set_status(task=task, by=people["liaison_pn"], status="done")
    updated = Event.objects.filter(type="crisis.task_updated").get()
    assert updated.payload["previous"] == "todo" and updated.payload["status"] == "in_progress"


def test_a_closed_crisis_changes_no_more_and_its_report_is_ready(api, people, agencies, flood,
                                                                make_incident):
    crises.log_add(crisis=flood, by=people["operator"], text="Montée des eaux quai Nicolas-Rolin")
    crises.task_add(crisis=flood, by=people["supervisor"], kind="decision",
                    title="Évacuation du quartier bas")
    crises.drawing_save(crisis=flood, by=people["operator"], kind="evacuation_zone",
                        label="Zone basse", geometry=SQUARE)
    crises.crisis_link_incident(crisis=flood, incident=make_incident(place=GARE),
                                by=people["supervisor"])
    crises.crisis_close(crisis=flood, by=people["supervisor"], summary="Décrue, retour au calme.")
    with pytest.raises(StateConflict):
        crises.log_add(crisis=flood, by=people["operator"], text="Trop tard")
    with pytest.raises(StateConflict):
        crises.crisis_close(crisis=flood, by=people["supervisor"])
    response = api(people["supervisor"]).get(f"/crises/{flood.pk}/compte-rendu/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Crue de l&#x27;Ouche", "Montée des eaux quai Nicolas-Rolin",
                 "Évacuation du quartier bas", "Zone basse", "Décrue, retour au calme.",
                 "Sapeurs-pompiers"):
        assert text in html, text
    assert html.count("INC-") >= 2
    pdf = api(people["supervisor"]).get(f"/crises/{flood.pk}/compte-rendu.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert api(people["liaison_sdis"]).get(f"/crises/{flood.pk}/compte-rendu/").status_code \
        in (403, 404)


def test_on_postgresql_the_logbook_rows_cannot_be_rewritten(people, flood, needs_postgres):
    from django.db import DatabaseError, connection, transaction

    entry = crises.log_add(crisis=flood, by=people["operator"], text="Première entrée")
    for sql in ("UPDATE incidents_logentry SET text = 'effacé' WHERE id = %s",
                "DELETE FROM incidents_logentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert LogEntry.objects.get(pk=entry.pk).text == "Première entrée"


def test_a_supervisor_opens_a_crisis_from_the_form(api, people, agencies, city, make_incident):
    from controlroom.models import Sector

    incident = make_incident(place=REPUBLIQUE)
    client = api(people["supervisor"])
    bad = client.post("/crises/", {"kind": "flood", "title": ""})
    assert bad.status_code == 200 and "Ce champ est obligatoire" in bad.content.decode()
    assert not Crisis.objects.exists()
    sector = Sector.objects.order_by("pk").first()
    response = client.post("/crises/", {
        "kind": "flood", "title": "Crue de l'Ouche", "sector": sector.pk,
        "incidents": [incident.pk], "agencies": [agencies["sdis"].pk]})
    crisis = Crisis.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crises/{crisis.pk}/"
    assert crisis.area == sector.geometry and list(crisis.incidents.all()) == [incident]
    assert client.get(f"/crises/{crisis.pk}/").status_code == 200
    # Operators follow crises but do not open them; the invited liaison sees it from home.
    assert api(people["operator"]).post("/crises/", {"kind": "flood",
                                                     "title": "x"}).status_code == 403
    home = api(people["liaison_sdis"]).get("/").content.decode()
    assert f"/crises/{crisis.pk}/" in home
    assert api(people["liaison_pn"]).get(f"/crises/{crisis.pk}/").status_code == 404
