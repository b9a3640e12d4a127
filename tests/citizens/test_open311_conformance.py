"""Open311 GeoReport v2 as outside clients see it: every JSON response validated against JSON
Schemas written from the specification (tests/data/open311/), a real HTTP client that sends
``api_key`` in the query string, repeated attribute keys, errors in one language, and a 429 a
client can act on."""

import json
import re
import uuid
from pathlib import Path

import jsonschema
import pytest
import requests

from citizens.models import Report
from tests.citizens.conftest import DARCY, JAURES, PARIS, submit

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "open311"
FRENCH_WORDS = re.compile(r"\b(le|la|les|des|est|indiqué|commune|lieu|réessayez|fourni)\b",
                          re.IGNORECASE)


def schema(name):
    document = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def conforms(response, name, status=200):
    """The response's JSON, after checking its status and validating it against ``name``."""
    status_code = getattr(response, "status_code", None)
    assert status_code == status, (status_code, response.content[:300])
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(response.content)
    errors = sorted(schema(name).iter_errors(data), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return data


def url(path):
    return f"/open311/v2/{path}.json"


@pytest.fixture
def reports(catalogue):
    return [submit(catalogue["eclairage-public"]),
            submit(catalogue["depot-sauvage"], attributes={}, place=DARCY),
            submit(catalogue["nuisance-sonore"], attributes={"en_cours": "oui"},
                   description="Musique forte.")]


def test_the_schemas_are_valid_and_can_fail():
    validator = schema("requests")
    good = {"service_request_id": "1", "status": "open", "service_code": "x",
            "requested_datetime": "2026-11-23T08:00:00+01:00", "media_url": None}
    assert validator.is_valid([good])
    assert not validator.is_valid([{**good, "media_url": ""}])
    assert not validator.is_valid([{**good, "status": "pending"}])
    assert not schema("errors").is_valid([{"code": "400", "description": "x"}])
    assert not schema("discovery").is_valid({"changeset": "2026-11-23T00:00:00Z", "contact": "",
                                             "key_service": "x", "endpoints": []})


def test_every_read_conforms(client, reports, open311_app):
    discovery = conforms(client.get("/open311/discovery.json"), "discovery")
    services_ = conforms(client.get(url("services")), "services")
    for entry in services_:
        conforms(client.get(url(f"services/{entry['service_code']}")), "service_definition")
    listing = conforms(client.get(url("requests")), "requests")
    assert {int(r["service_request_id"]) for r in listing} == {r.pk for r in reports}
    assert all(r["media_url"] is None for r in listing)
    for report in reports:
        conforms(client.get(url(f"requests/{report.pk}")), "requests")
        conforms(client.get(url(f"tokens/{report.code}")), "tokens")
    conforms(client.get(url("requests"), {"status": "open", "service_code": "depot-sauvage"}),
             "requests")
    assert discovery["contact"].strip()


@pytest.mark.parametrize("call, status", [
    (lambda c, app: c.get(url("services/inconnu")), 404),
    (lambda c, app: c.get(url("requests/999999")), 404),
    (lambda c, app: c.get(url("tokens/AAAA-AAAA-AAAA")), 404),
    (lambda c, app: c.get(url("requests"), {"start_date": "hier"}), 400),
    (lambda c, app: c.get(url("requests"), {"status": "pending"}), 400),
    (lambda c, app: c.get("/open311/v2/nowhere.json"), 404),
    (lambda c, app: c.post(url("requests"), {"service_code": "eclairage-public"}), 403),
    (lambda c, app: c.post(url("requests") + "?api_key=wrong", {}), 403),
    (lambda c, app: c.post(url("requests"), {"api_key": app.key, "service_code": "x"}), 404),
    (lambda c, app: c.post(url("requests"), {"api_key": app.key,
                                             "service_code": "eclairage-public"}), 400),
    (lambda c, app: c.post(url("requests"), {
        "api_key": app.key, "service_code": "eclairage-public", "lat": PARIS[0],
        "long": PARIS[1], "attribute[lampadaires]": "un"}), 400),
])
def test_every_error_conforms(client, catalogue, open311_app, call, status):
    (error,) = conforms(call(client, open311_app), "errors", status=status)
    assert error["code"] == status


def test_a_post_conforms_and_media_url_is_null(client, catalogue, open311_app):
    created = conforms(client.post(url("requests"), {
        "api_key": open311_app.key, "service_code": "eclairage-public", "lat": JAURES[0],
        "long": JAURES[1], "attribute[lampadaires]": "un", "description": "Éteint."}),
        "post_response")
    (read,) = conforms(client.get(url(f"requests/{created[0]['service_request_id']}")),
                       "requests")
    assert read["media_url"] is None
    assert '"media_url": null' in client.get(url("requests")).content.decode()


def test_a_media_url_given_by_the_client_is_published_as_given(client, catalogue, open311_app):
    created = conforms(client.post(url("requests"), {
        "api_key": open311_app.key, "service_code": "eclairage-public", "lat": JAURES[0],
        "long": JAURES[1], "attribute[lampadaires]": "un",
        "media_url": "https://photos.appli.example/p/1.jpg"}), "post_response")
    (read,) = conforms(client.get(url(f"requests/{created[0]['service_request_id']}")),
                       "requests")
    assert read["media_url"] == "https://photos.appli.example/p/1.jpg"


def test_repeated_attribute_keys_make_a_multivalue_list(client, catalogue, open311_app):
    body = (f"api_key={open311_app.key}&service_code=degradation&lat={JAURES[0]}"
            f"&long={JAURES[1]}&attribute[nature]=tag&attribute[nature]=vitre")

    conforms(client.post(url("requests"), body,
                         content_type="application/x-www-form-urlencoded"), "post_response")

    assert Report.objects.get().attributes == {"nature": ["tag", "vitre"]}


def test_repeated_keys_for_a_single_answer_are_refused(client, catalogue, open311_app):
    body = (f"api_key={open311_app.key}&service_code=eclairage-public&lat={JAURES[0]}"
            f"&long={JAURES[1]}&attribute[lampadaires]=un&attribute[lampadaires]=plusieurs")

    (error,) = conforms(client.post(url("requests"), body,
                                    content_type="application/x-www-form-urlencoded"),
                        "errors", status=400)

    assert "single answer" in error["description"] and not Report.objects.exists()


def test_discovery_names_a_contact_and_how_to_obtain_a_key(client, settings):
    data = conforms(client.get("/open311/discovery.json"), "discovery")
    assert data["contact"] == settings.OPEN311_CONTACT and "@" in data["contact"]
    assert data["key_service"].endswith("/open311/")

    page = client.get(data["key_service"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "api_key" in text and settings.OPEN311_CONTACT in text


def test_errors_are_english_by_default_and_french_on_request(client, catalogue, open311_app):
    fields = {"api_key": open311_app.key, "service_code": "eclairage-public", "lat": PARIS[0],
              "long": PARIS[1], "attribute[lampadaires]": "un"}

    english = client.post(url("requests"), fields)
    (error,) = conforms(english, "errors", status=400)
    assert "outside the city" in error["description"]
    assert not FRENCH_WORDS.search(error["description"]), error["description"]
    assert english["Content-Language"] == "en"

    french = client.post(url("requests"), fields, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    (error,) = conforms(french, "errors", status=400)
    assert "en dehors de la commune" in error["description"]
    assert french["Content-Language"] == "fr"

    (missing,) = conforms(client.get(url("services/inconnu"), HTTP_ACCEPT_LANGUAGE="fr"),
                          "errors", status=404)
    assert missing["description"] == "Le service_code indiqué est inconnu."
    (missing,) = conforms(client.get(url("services/inconnu"),
                                     HTTP_ACCEPT_LANGUAGE="de, en;q=0.8, fr;q=0.5"),
                          "errors", status=404)
    assert missing["description"] == "service_code provided was not found."


def test_a_client_sending_the_api_key_in_the_query_string_can_post(live_server, catalogue,
                                                                   open311_app):
    """As the specification's own examples (and its swagger) do, with a real HTTP client."""
    response = requests.post(
        f"{live_server.url}{url('requests')}", params={"api_key": open311_app.key},
        data={"service_code": "degradation", "lat": JAURES[0], "long": JAURES[1],
              "attribute[nature][]": ["tag"], "description": "Tag sur l'abribus."},
        timeout=30)

    (created,) = conforms(response, "post_response")
    report = Report.objects.get(pk=int(created["service_request_id"]))
    assert report.client == open311_app and report.attributes == {"nature": ["tag"]}
    (read,) = conforms(requests.get(f"{live_server.url}{url(f'requests/{report.pk}')}",
                                    timeout=30), "requests")
    assert read["service_code"] == "degradation"


def test_a_429_says_when_to_retry(live_server, catalogue, open311_app, settings):
    settings.OPEN311_POST_RATE = "1/m"
    open311_app.code = f"limited-{uuid.uuid4().hex[:8]}"
    open311_app.save()
    target = f"{live_server.url}{url('requests')}?api_key={open311_app.key}"
    fields = {"service_code": "obstacle-chaussee", "lat": JAURES[0], "long": JAURES[1]}

    assert requests.post(target, data=fields, timeout=30).status_code == 200
    response = requests.post(target, data=fields, timeout=30)

    (error,) = conforms(response, "errors", status=429)
    assert response.reason == "Too Many Requests"
    assert response.headers["Retry-After"] == "60"
    assert "retry in 60 seconds" in error["description"]
