"""Bad input gets a clear 4xx JSON error and changes nothing — never a server error."""

import json
from urllib.parse import urlencode

import pytest

from controlroom.models import Event
from incidents.models import Alert, Crisis
from tests.incidents.conftest import DARCY, make_incident  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

HUGE = "9" * 30  # far beyond PostgreSQL's bigint


def alert(**extra):
    return {"category": "rixe", "lat": DARCY[0], "lon": DARCY[1], "title": "Bagarre", **extra}


def post_json(client, path, body):
    return client.post(path, json.dumps(body) if not isinstance(body, str) else body,
                       content_type="application/json")


def assert_refused(response, code=400):
    assert response.status_code == code, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/incidents/", "/api/alerts/", "/api/units/",
                                  "/api/devices/", "/api/video-events/"])
def test_a_limit_or_offset_beyond_bigint_is_no_server_error(api, people, path, make_incident):
    make_incident()  # lists with rows in them: an empty list answers before any slicing
    client = api(people["supervisor"])
    assert client.get(f"{path}?limit={HUGE}").status_code == 200
    assert client.get(f"{path}?offset={HUGE}").status_code == 200


def test_list_limits_are_capped(settings):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from controlroom.api.pagination import MAX_LIMIT, BoundedLimitOffsetPagination

    request = Request(APIRequestFactory().get(f"/api/incidents/?limit={HUGE}&offset={HUGE}"))
    paginator = BoundedLimitOffsetPagination()
    assert paginator.get_limit(request) == MAX_LIMIT <= 500
    assert paginator.get_offset(request) < 2**62
    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == (
        "controlroom.api.pagination.BoundedLimitOffsetPagination")


@pytest.mark.parametrize("pk", ["abc", "1e3", HUGE, "٣"])
def test_crisis_routes_with_a_bad_id_answer_404(api, people, pk):
    client = api(people["supervisor"])
    assert_refused(client.get(f"/api/crises/{pk}/"), 404)
    assert_refused(post_json(client, f"/api/crises/{pk}/log/", {"text": "x"}), 404)
    assert_refused(client.patch(f"/api/crises/{pk}/tasks/1/", {"status": "done"},
                                content_type="application/json"), 404)


def test_crisis_bodies_with_huge_ids_are_refused(api, people, city):
    client = api(people["supervisor"])
    response = post_json(client, "/api/crises/", {"kind": "flood", "title": "Crue",
                                                  "incidents": [int(HUGE)]})
    assert_refused(response)
    assert not Crisis.objects.exists()


@pytest.mark.parametrize("moment", ["2026-01-01T08:00:00+16:16", "2026-01-01T08:00:00-23:59"])
def test_a_time_zone_offset_beyond_14_hours_is_refused(api, people, city, categories, moment):
    client = api(people["operator"])
    assert_refused(client.get("/api/incidents/", {"created_after": moment}))
    assert_refused(client.get("/api/alerts/", {"received_before": moment}))
    before = Event.objects.count()
    response = post_json(client, "/api/alerts/", alert(occurred_at=moment))
    assert_refused(response)
    assert "occurred_at" in response.json()["fields"]
    assert Event.objects.count() == before and not Alert.objects.exists()


@pytest.mark.parametrize("body", [
    alert(title="Bag\x00arre"),
    alert(evidence={"note": "a\x00b"}),
    alert(evidence={"a\x00": 1}),
    alert(evidence={"list": ["ok", ["deep\x00"]]}),
])
def test_nul_characters_in_json_are_refused(api, people, city, categories, body):
    assert_refused(post_json(api(people["operator"]), "/api/alerts/", body))
    assert not Alert.objects.exists()


def test_nul_characters_in_forms_and_queries_are_refused(api, people, city, categories):
    client = api(people["operator"])
    form = client.post("/api/alerts/", {**alert(), "title": "Bag\x00arre"})
    assert_refused(form)
    assert_refused(client.get("/api/incidents/", {"status": "new\x00"}))
    page = client.post("/signaler/suivi/", urlencode({"code": "AB\x00CD"}),
                       content_type="application/x-www-form-urlencoded")
    assert page.status_code == 400
    assert not Alert.objects.exists()


def test_evidence_nested_5000_deep_is_refused(api, people, city, categories):
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    body = json.dumps(alert())[:-1] + ', "evidence": ' + deep + "}"
    assert_refused(post_json(api(people["operator"]), "/api/alerts/", body))
    shallow_enough = {"a": {"b": {"c": 1}}}
    response = post_json(api(people["operator"]), "/api/alerts/", alert(evidence=shallow_enough))
    assert response.status_code == 201
