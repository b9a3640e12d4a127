"""A bounded property-based run over the whole documented API (/api/schema/): schemathesis draws
requests from the schema, and none may end in a server error, nor answer otherwise than the
schema documents (nullable fields, lists paginated or not).

Authenticated as an operator (session cookie and CSRF token), so requests get past the
authentication and reach the views. Examples are derived deterministically, so a run is
repeatable; ``API_FUZZ_EXAMPLES`` sets how many per operation.
"""

import os

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, Phase
from schemathesis.checks import response_schema_conformance

from tests.devices.conftest import make_device  # noqa: F401 (fixtures)
from tests.incidents.conftest import DARCY, make_incident, make_unit  # noqa: F401
from tests.video.conftest import make_camera  # noqa: F401

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
CSRF = "fuzzcsrftokenfuzzcsrftokenfuzz00"  # a 32-character CSRF secret, sent as cookie and header


@pytest.fixture
def existing(people, city, categories, make_incident, make_unit, make_device,
             make_camera) -> dict:
    """One object of each kind, so that requests about an ``{id}`` also reach real ones."""
    from incidents.services import alerts, crises

    incident = make_incident()
    alert = alerts.alert_receive(by=people["operator"], source="operator",
                                 category=categories["rixe"], title="Rixe", lat=DARCY[0],
                                 lon=DARCY[1]).alert
    crisis = crises.crisis_open(by=people["supervisor"], kind="flood", title="Crue")
    return {"/api/incidents/": incident.pk, "/api/alerts/": alert.pk,
            "/api/units/": make_unit("PM-01").pk, "/api/crises/": crisis.pk,
            "/api/devices/": make_device("lum-1").pk,
            "/api/cameras/": make_camera("cam-fuzz", "/nonexistent/clip.avi").pk}


@pytest.fixture
def operator_client(people, existing):
    client = Client()
    client.force_login(people["operator"])
    return client


@pytest.mark.django_db(transaction=True)
def test_no_request_drawn_from_the_schema_gets_a_server_error(operator_client, existing):
    response = operator_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = get_wsgi_application()
    session = operator_client.cookies[settings.SESSION_COOKIE_NAME].value
    cookies = {settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: CSRF}
    headers = {"X-CSRFToken": CSRF}
    failures = []

    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                             derandomize=True, phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck))
        @hypothesis.given(case=operation.as_strategy())
        def call(case):
            check(case)
            real = next((pk for prefix, pk in existing.items()
                         if case.path.startswith(prefix)), None)
            if real is not None and "id" in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, "id": real}
                check(case)

        def check(case):
            response = case.call(headers=headers, cookies=cookies)
            request = (f"{case.method} {case.formatted_path} query={case.query} "
                       f"body={str(case.body)[:200]!r}")
            if response.status_code >= 500:
                failures.append(f"{request} -> {response.status_code}")
                return
            try:  # the answer is what the schema says (nullable fields, lists as they are)
                case.validate_response(response, checks=[response_schema_conformance])
            except BaseException as exc:  # noqa: BLE001 - schemathesis raises a FailureGroup
                failures.append(f"{request} -> {response.status_code} not as documented: "
                                f"{str(exc).split('Schema at')[0][:300]}")

        call()

    assert failures == [], "\n".join(failures[:40])
