"""The incidents API: wiring, permissions per role, agency scoping, partner tokens, errors."""

import pytest
from django.test import Client

from controlroom.models import Event
from incidents.models import Alert, Incident, PartnerSystem
from incidents.services import incidents as incident_services
from incidents.services import units as unit_services
from tests.incidents.conftest import DARCY, GARE, PARIS, REPUBLIQUE

ROLES = ["operator", "supervisor", "liaison_pn", "administrator"]


@pytest.fixture
def partner(agencies):
    def make(scopes=("alerts", "positions"), agency="pn", code="avl-pn"):
        system = PartnerSystem(code=code, name=code, agency=agencies[agency], scopes=list(scopes))
        token = system.issue_token()
        system.save()
        return system, token

    return make


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def alert_body(**extra):
    return {"category": "rixe", "lat": DARCY[0], "lon": DARCY[1], "title": "Bagarre", **extra}


@pytest.mark.django_db
@pytest.mark.parametrize("path,allowed", [
    ("/api/alerts/", {"operator", "supervisor"}),
    ("/api/incidents/", set(ROLES) - {"administrator"}),
    ("/api/units/", set(ROLES) - {"administrator"}),
    ("/api/categories/", set(ROLES)),
    ("/api/procedure-runs/", set(ROLES) - {"administrator"}),
])
def test_reading_per_role(api, people, categories, path, allowed):
    for role in ROLES:
        response = api(people[role]).get(path)
        assert response.status_code == 200, (role, response.status_code)
        if role not in allowed:
            body = response.json()
            results = body["results"] if isinstance(body, dict) else body
            assert results == [], role
    assert Client().get(path).status_code in (401, 403)


@pytest.mark.django_db
def test_operators_create_and_handle_alerts(api, people, city, categories):
    client = api(people["operator"])
    response = client.post("/api/alerts/", alert_body(), content_type="application/json")
    assert response.status_code == 201, response.json()
    alert = response.json()
    assert alert["source"] == "operator" and alert["status"] == "new"
    response = client.post(f"/api/alerts/{alert['id']}/acknowledge/")
    assert response.json()["status"] == "acknowledged"
    response = client.post(f"/api/alerts/{alert['id']}/open-incident/", {"priority": 4},
                           content_type="application/json")
    assert response.status_code == 201
    incident = response.json()
    assert incident["status"] == "acknowledged" and incident["alerts"] == [alert["id"]]
    assert incident["reference"].startswith("INC-")


@pytest.mark.django_db
def test_liaisons_cannot_post_alerts(api, people, city, categories):
    response = api(people["liaison_pn"]).post("/api/alerts/", alert_body(),
                                              content_type="application/json")
    assert response.status_code == 403
    assert "detail" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("body,field", [
    (alert_body(lat=PARIS[0], lon=PARIS[1]), "lat"),
    (alert_body(category="licorne"), "category"),
    (alert_body(severity=9), "severity"),
    (alert_body(lat="nord"), "lat"),
    ({"title": "sans lieu"}, "category"),
])
def test_bad_alerts_get_a_json_error_naming_the_field(api, people, city, categories, body, field):
    events = Event.objects.count()
    response = api(people["operator"]).post("/api/alerts/", body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()
    assert field in error["fields"], error
    assert error["detail"]
    assert Alert.objects.count() == 0 and Event.objects.count() == events


@pytest.mark.django_db
def test_partner_alerts_with_a_token_are_idempotent(partner, city, categories):
    system, token = partner()
    client = Client()
    body = alert_body(source_ref="PN-2026-001")
    first = client.post("/api/alerts/", body, content_type="application/json", **bearer(token))
    again = client.post("/api/alerts/", body, content_type="application/json", **bearer(token))
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["source"] == "partner" and first.json()["source_system"] == "avl-pn"
    event = Event.objects.get(type="alert.received")
    assert event.actor_label == "partner:avl-pn"
    system.refresh_from_db()
    assert system.last_used_at is not None
    # A partner token reads nothing of the control room.
    assert client.get("/api/alerts/", **bearer(token)).json()["results"] == []


@pytest.mark.django_db
def test_partner_tokens_are_checked(partner, city, categories):
    _system, token = partner(scopes=["positions"])
    client = Client()
    body = alert_body()
    assert client.post("/api/alerts/", body, content_type="application/json",
                       **bearer("forged")).status_code == 401
    assert client.post("/api/alerts/", body, content_type="application/json",
                       **bearer(token)).status_code == 403
    revoked, revoked_token = partner(code="old")
    revoked.active = False
    revoked.save()
    assert client.post("/api/alerts/", body, content_type="application/json",
                       **bearer(revoked_token)).status_code == 401
    assert Alert.objects.count() == 0


@pytest.mark.django_db
def test_partner_alerts_are_rate_limited(partner, city, categories, settings):
    from django.core.cache import caches

    cache = caches["ratelimit"]
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "partner": "3/min"}}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    _system, token = partner()
    client = Client()
    codes = [
        client.post("/api/alerts/", alert_body(source_ref=f"r{i}"),
                    content_type="application/json", **bearer(token)).status_code
        for i in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
    cache.clear()


@pytest.mark.django_db
def test_an_avl_feed_reports_positions_of_its_agency_units(partner, city, agencies):
    _system, token = partner(agency="pn")
    own = unit_services.unit_create(by="system:test", call_sign="PN-1", kind="patrol_car",
                                    agency=agencies["pn"])
    other = unit_services.unit_create(by="system:test", call_sign="PM-1", kind="patrol_car",
                                      agency=agencies["pm"])
    client = Client()
    position = {"lat": GARE[0], "lon": GARE[1]}
    response = client.post(f"/api/units/{own.pk}/position/", position,
                           content_type="application/json", **bearer(token))
    assert response.status_code == 200, response.json()
    assert response.json()["lat"] == GARE[0]
    response = client.post(f"/api/units/{other.pk}/position/", position,
                           content_type="application/json", **bearer(token))
    assert response.status_code == 404
    response = client.post(f"/api/units/{own.pk}/status/", {"status": "unavailable"},
                           content_type="application/json", **bearer(token))
    assert response.status_code == 403


@pytest.mark.django_db
def test_liaisons_see_only_their_agency_incidents(api, people, make_incident, make_unit, agencies):
    shared = make_incident(place=GARE)
    hidden = make_incident(place=REPUBLIQUE)
    pn_unit = make_unit("PN-1", agency="pn", place=DARCY)
    unit_services.unit_assign(incident=shared, unit=pn_unit, by=people["operator"])
    incident_services.incident_note_add(incident=hidden, by=people["operator"], text="Secret")

    liaison = api(people["liaison_pn"])
    listed = [i["id"] for i in liaison.get("/api/incidents/").json()["results"]]
    assert listed == [shared.pk]
    assert liaison.get(f"/api/incidents/{hidden.pk}/").status_code == 404
    assert liaison.get(f"/api/incidents/{hidden.pk}/timeline/").status_code == 404
    timeline = liaison.get(f"/api/incidents/{shared.pk}/timeline/").json()
    assert "incident.unit_assigned" in [e["type"] for e in timeline]
    # A liaison writes notes on their incidents, not on others'.
    assert liaison.post(f"/api/incidents/{shared.pk}/notes/", {"text": "Équipage BAC sur place"},
                        content_type="application/json").status_code == 201
    assert liaison.post(f"/api/incidents/{hidden.pk}/notes/", {"text": "x"},
                        content_type="application/json").status_code == 404
    # Nor may they move an incident or dispatch.
    response = liaison.post(f"/api/incidents/{shared.pk}/transition/", {"to": "on_scene"},
                            content_type="application/json")
    assert response.status_code == 403
    assert liaison.get(f"/api/incidents/{shared.pk}/suggestions/").status_code == 403
    units = [u["call_sign"] for u in liaison.get("/api/units/").json()["results"]]
    assert units == ["PN-1"]


@pytest.mark.django_db
def test_incident_life_over_the_api(api, people, city, categories, make_unit):
    make_unit("PM-1", place=DARCY)
    client = api(people["operator"])
    response = client.post("/api/incidents/", {
        "category": "rixe", "title": "Rixe devant un bar", "lat": REPUBLIQUE[0],
        "lon": REPUBLIQUE[1],
    }, content_type="application/json")
    assert response.status_code == 201, response.json()
    incident = response.json()
    assert incident["priority"] == 1 and incident["allowed_transitions"] == [
        "acknowledged", "cancelled"]
    url = f"/api/incidents/{incident['id']}/"

    refused = client.post(url + "transition/", {"to": "closed"}, content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["fields"] == {"status": [refused.json()["detail"].split(": ", 1)[1]]}

    suggestions = client.get(url + "suggestions/").json()
    assert suggestions[0]["unit"]["call_sign"] == "PM-1"
    response = client.post(url + "assign/", {"units": [suggestions[0]["unit"]["id"]]},
                           content_type="application/json")
    assert response.json()["status"] == "dispatched"
    assert response.json()["units"][0]["call_sign"] == "PM-1"

    response = client.patch(url, {"priority": 3, "address": "Place de la République"},
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["priority"] == 3
    response = client.patch(url, {"lat": PARIS[0], "lon": PARIS[1]},
                            content_type="application/json")
    assert response.status_code == 400 and "lat" in response.json()["fields"]

    client.post(url + "notes/", {"text": "Deux individus interpellés"},
                content_type="application/json")
    types = [e["type"] for e in client.get(url + "timeline/").json()]
    assert types[0] == "incident.created"
    assert {"incident.unit_assigned", "incident.updated", "incident.note_added"} <= set(types)

    resolved = client.post(url + "transition/", {"to": "resolved"},
                           content_type="application/json")
    assert resolved.json()["status"] == "resolved" and resolved.json()["units"] == []
    refused = client.post(url + "transition/", {"to": "closed"}, content_type="application/json")
    assert refused.status_code == 403
    closed = api(people["supervisor"]).post(url + "transition/", {"to": "closed"},
                                            content_type="application/json")
    assert closed.json()["status"] == "closed"


@pytest.mark.django_db
def test_transitions_offered_are_those_the_reader_may_make(api, people, make_incident):
    from incidents.services import incidents as incident_services

    incident = make_incident()
    for to in ("acknowledged", "resolved"):
        incident = incident_services.incident_transition(incident=incident, to=to,
                                                         by=people["operator"])
    url = f"/api/incidents/{incident.pk}/"

    # Closing and reopening are a supervisor's: an operator is not offered what would fail.
    assert api(people["operator"]).get(url).json()["allowed_transitions"] == []
    assert api(people["supervisor"]).get(url).json()["allowed_transitions"] == [
        "closed", "acknowledged"]
    listed = api(people["operator"]).get("/api/incidents/").json()["results"]
    assert [i["allowed_transitions"] for i in listed if i["id"] == incident.pk] == [[]]


def test_incident_filters(api, people, make_incident):
    rixe = make_incident(category="rixe", place=REPUBLIQUE)
    vol = make_incident(category="vol", place=GARE)
    Incident.objects.filter(pk=vol.pk).update(status="resolved")
    client = api(people["operator"])

    def ids(query):
        return {i["id"] for i in client.get(f"/api/incidents/?{query}").json()["results"]}

    assert ids("category=rixe") == {rixe.pk}
    assert ids("status=resolved") == {vol.pk}
    assert ids("open=true") == {rixe.pk}
    assert ids(f"sector={rixe.sector_id}") == {rixe.pk}
    assert ids("created_after=2000-01-01T00:00:00Z") == {rixe.pk, vol.pk}
    assert ids("created_before=2000-01-01T00:00:00Z") == set()
    bad = client.get("/api/incidents/?status=exploded")
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


@pytest.mark.django_db
def test_the_schema_documents_the_endpoints(api, people):
    schema = api(people["operator"]).get("/api/schema/?format=json").json()
    for path in ["/api/alerts/", "/api/alerts/{id}/dismiss/", "/api/incidents/{id}/transition/",
                 "/api/incidents/{id}/timeline/", "/api/units/{id}/position/",
                 "/api/procedure-steps/{id}/answer/", "/api/procedure-runs/"]:
        assert path in schema["paths"], path
    assert "partnerToken" in schema["components"]["securitySchemes"]


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert "/api/incidents/{id}/assign/" in (tmp_path / "s.yaml").read_text()


@pytest.mark.django_db
def test_map_layers_are_scoped_geojson(api, people, make_incident, make_unit, city, categories):
    from incidents.services import alerts as alert_services

    shared = make_incident(place=GARE)
    make_incident(place=REPUBLIQUE)
    unit_services.unit_assign(incident=shared, unit=make_unit("PN-1", agency="pn"),
                              by=people["operator"])
    make_unit("PM-1")
    alert_services.alert_receive(by="system:test", source="camera", category=categories["rixe"],
                                 title="Rixe", lat=DARCY[0], lon=DARCY[1])
    operator, liaison = api(people["operator"]), None

    def layer(client, name):
        response = client.get(f"/api/layers/{name}.geojson")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/geo+json"
        return response.json()

    incidents = layer(operator, "incidents")
    assert incidents["type"] == "FeatureCollection" and len(incidents["features"]) == 2
    feature = next(f for f in incidents["features"] if f["properties"]["id"] == shared.pk)
    assert feature["geometry"]["coordinates"] == [GARE[1], GARE[0]]  # lon, lat
    assert feature["properties"]["status"] == "dispatched"
    assert len(layer(operator, "units")["features"]) == 2
    assert len(layer(operator, "alerts")["features"]) == 1
    liaison = api(people["liaison_pn"])
    assert [f["properties"]["id"] for f in layer(liaison, "incidents")["features"]] == [shared.pk]
    assert [f["properties"]["call_sign"] for f in layer(liaison, "units")["features"]] == ["PN-1"]
    assert layer(liaison, "alerts")["features"] == []
    assert liaison.get("/api/layers/secrets.geojson").status_code == 404
    assert Client().get("/api/layers/incidents.geojson").status_code == 403


@pytest.mark.django_db
def test_lists_cost_the_same_queries_for_1_or_20_rows(api, people, make_incident, make_unit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.services import alerts as alert_services

    client = api(people["operator"])

    def add(n):
        for _ in range(n):
            incident = make_incident()
            unit = make_unit(f"U-{incident.pk}")
            unit_services.unit_assign(incident=incident, unit=unit, by=people["operator"])
            alert = alert_services.alert_receive(
                by="system:test", source="camera", category=incident.category, title="x",
                lat=DARCY[0], lon=DARCY[1]).alert
            alert_services.alert_acknowledge(alert=alert, by=people["operator"])

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    add(1)
    paths = ["/api/incidents/", "/api/alerts/", "/api/units/", "/api/procedure-runs/"]
    for path in paths:
        client.get(path)  # warm the session and content-type caches
    one = {path: queries(path) for path in paths}
    add(19)
    assert {path: queries(path) for path in paths} == one


@pytest.mark.django_db
def test_layers_are_compressed_when_the_browser_accepts_it(api, people, make_incident):
    import gzip
    import json as jsonlib

    for _ in range(5):
        make_incident()
    client = api(people["operator"])
    plain = client.get("/api/layers/incidents.geojson")
    packed = client.get("/api/layers/incidents.geojson", HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip"
    assert jsonlib.loads(gzip.decompress(packed.content)) == plain.json()
    assert int(plain["X-Journal-Seq"]) >= 1


@pytest.mark.django_db
def test_layer_times_are_iso_utc(api, people, make_incident, make_unit):
    from datetime import datetime

    incident = make_incident()
    make_unit("PM-1")
    client = api(people["operator"])
    feature = client.get("/api/layers/incidents.geojson").json()["features"][0]["properties"]
    shown = datetime.fromisoformat(feature["created_at"].replace("Z", "+00:00"))
    assert abs((shown - incident.created_at).total_seconds()) < 0.001
    assert feature["reference"] == incident.reference
    unit = client.get("/api/layers/units.geojson").json()["features"][0]["properties"]
    assert unit["position_at"].endswith("Z")
