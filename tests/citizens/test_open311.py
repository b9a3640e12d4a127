"""Open311 GeoReport v2 conformance, in both formats: fields, statuses, dates, errors.

Each response is parsed back into plain data (JSON as is, XML through its element tree) and
checked against what the specification names, so a JSON-only or XML-only slip fails.
"""

import re
import uuid
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from citizens import services
from citizens.models import ClientApplication, Report
from controlroom.models import Event
from incidents.models import Alert
from tests.citizens.conftest import DARCY, JAURES, PARIS, photo, submit

pytestmark = pytest.mark.django_db

FORMATS = ["json", "xml"]
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords",
                  "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url"}
LISTS = {"attributes", "values", "endpoints", "formats"}


def element_data(element):
    """An XML element as data: lists for the list fields, text for leaves."""
    children = list(element)
    if not children:
        return element.text or ""
    if element.tag in LISTS:
        return [element_data(child) for child in children]
    return {child.tag: element_data(child) for child in children}


def parse(response, fmt, root=None, item=None):
    """(data, raw) from a response, checking the content type and the XML envelope."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response.json()
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    tree = ElementTree.fromstring(response.content)
    if root:
        assert tree.tag == root
    if item is None:
        return element_data(tree)
    assert all(child.tag == item for child in tree)
    return [element_data(child) for child in tree]


def expect_error(response, fmt, status, fragment):
    assert response.status_code == status
    errors = parse(response, fmt, root="errors", item="error")
    assert len(errors) == 1 and set(errors[0]) == {"code", "description"}
    assert str(errors[0]["code"]) == str(status)
    assert fragment in errors[0]["description"]


def url(path, fmt):
    return f"/open311/v2/{path}.{fmt}"


def post(client, fmt, app, **fields):
    data = {"api_key": app.key, "service_code": "eclairage-public", "lat": JAURES[0],
            "long": JAURES[1], "description": "Lampadaire éteint.",
            "attribute[lampadaires]": "un"}
    data.update(fields)
    return client.post(url("requests", fmt), {k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, fmt):
    response = client.get(f"/open311/discovery.{fmt}")

    data = parse(response, fmt, root="discovery")
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list(client, catalogue, fmt):
    services_ = parse(client.get(url("services", fmt)), fmt, root="services", item="service")

    by_code = {s["service_code"]: s for s in services_}
    assert set(by_code) == set(catalogue)
    for entry in services_:
        assert set(entry) == SERVICE_FIELDS
        assert entry["type"] == "realtime"
    light, other = by_code["eclairage-public"], by_code["obstacle-chaussee"]
    assert light["metadata"] in (True, "true") and other["metadata"] in (False, "false")
    assert light["service_name"] == "Éclairage public en panne"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(client, catalogue, fmt):
    data = parse(client.get(url("services/degradation", fmt)), fmt, root="service_definition")

    assert data["service_code"] == "degradation"
    (attribute,) = data["attributes"]
    assert set(attribute) == {"variable", "code", "datatype", "required", "datatype_description",
                              "order", "description", "values"}
    assert attribute["datatype"] == "multivaluelist" and attribute["code"] == "nature"
    assert str(attribute["required"]).lower() == "true"
    assert {"key": "tag", "name": "Tag ou graffiti"} in attribute["values"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_definition(client, catalogue, fmt):
    expect_error(client.get(url("services/inconnu", fmt)), fmt, 404, "service_code")


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_a_request_and_read_it_back(client, catalogue, open311_app, fmt):
    response = post(client, fmt, open311_app, email="a@example.org", first_name="Ana",
                    address_string="12 rue Jean-Jaurès")

    assert response.status_code == 200
    (created,) = parse(response, fmt, root="service_requests", item="request")
    assert {"service_request_id", "service_notice", "account_id"} <= set(created)
    report = Report.objects.get(pk=int(created["service_request_id"]))
    assert report.channel == "open311" and report.client == open311_app
    assert report.email == "a@example.org" and report.first_name == "Ana"
    assert report.alert.source == "citizen"
    assert created["token"] == report.code and report.code in created["service_notice"]

    (read,) = parse(client.get(url(f"requests/{report.pk}", fmt)), fmt,
                    root="service_requests", item="request")
    assert set(read) == REQUEST_FIELDS
    assert read["status"] == "open" and read["service_code"] == "eclairage-public"
    assert read["address"] == "12 rue Jean-Jaurès"
    assert W3C.match(read["requested_datetime"]) and W3C.match(read["updated_datetime"])
    assert float(read["lat"]) == pytest.approx(JAURES[0]) and float(read["long"]) == pytest.approx(JAURES[1])
    assert "a@example.org" not in str(read) and "Ana" not in str(read)


@pytest.mark.parametrize("fmt", FORMATS)
def test_multivalue_attributes_and_a_media_upload(client, catalogue, open311_app, fmt):
    upload = SimpleUploadedFile("p.jpg", photo(gps=True), "image/jpeg")

    response = post(client, fmt, open311_app, service_code="degradation", media=upload,
                    **{"attribute[lampadaires]": None, "attribute[nature][]": ["tag", "vitre"]})

    assert response.status_code == 200
    report = Report.objects.get()
    assert report.attributes == {"nature": ["tag", "vitre"]}
    assert b"Exif" not in report.photos.get().image.read()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fields, status, fragment", [
    ({"api_key": None}, 403, "api_key was not provided"),
    ({"api_key": "wrong"}, 403, "api_key is not valid"),
    ({"service_code": None}, 400, "service_code was not provided"),
    ({"service_code": "inconnu"}, 404, "service_code provided was not found"),
    ({"lat": None, "long": None}, 400, "lat/long, address_string, or address_id was not provided"),
    ({"lat": None, "long": None, "address_string": "Place Darcy"}, 400, "does not geocode"),
    ({"lat": PARIS[0], "long": PARIS[1]}, 400, "outside the city"),
    ({"lat": "north"}, 400, "Latitude and longitude must be numbers"),
    ({"attribute[lampadaires]": None}, 400, "Combien de lampadaires"),
    ({"attribute[lampadaires]": "mille"}, 400, "unknown choice"),
    ({"email": "pas-un-courriel"}, 400, "email"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"jurisdiction_id": "ailleurs.example"}, 404, "jurisdiction_id"),
])
def test_post_errors(client, catalogue, open311_app, settings, fmt, fields, status, fragment):
    settings.OPEN311_JURISDICTION = "dijon.fr"
    before = (Report.objects.count(), Alert.objects.count(), Event.objects.count())
    media = fields.pop("media", None)
    if media:
        fields["media"] = media

    expect_error(post(client, fmt, open311_app, **fields), fmt, status, fragment)
    assert (Report.objects.count(), Alert.objects.count(), Event.objects.count()) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_media_upload_is_refused(client, catalogue, open311_app, fmt):
    upload = SimpleUploadedFile("p.jpg", b"not a picture", "image/jpeg")

    expect_error(post(client, fmt, open311_app, media=upload), fmt, 400, "photos")
    assert not Report.objects.exists()


@pytest.fixture
def history(catalogue, people):
    """Four reports: two lights (one closed), litter, and noise (whose details stay private)."""
    light = catalogue["eclairage-public"]
    old = submit(light, place=DARCY)
    Report.objects.filter(pk=old.pk).update(requested_at=timezone.now() - timedelta(days=10))
    recent = submit(light)
    litter = submit(catalogue["depot-sauvage"], attributes={}, place=(47.3170, 5.0040))
    noise = submit(catalogue["nuisance-sonore"], attributes={"en_cours": "oui"},
                   place=(47.31783, 5.03684), description="Chez M. Martin, 3e étage.",
                   contact=services.Contact(email="voisin@example.org"), consent=True)
    services.report_set_status(report=old, by=people["operator"], status="resolved",
                               note="Ampoule changée.")
    return {"old": Report.objects.get(pk=old.pk), "recent": recent, "litter": litter,
            "noise": noise}


def ids(response, fmt):
    return {int(r["service_request_id"])
            for r in parse(response, fmt, root="service_requests", item="request")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters(client, history, fmt):
    h = history
    everything = {r.pk for r in h.values()}
    a_week_ago = (timezone.now() - timedelta(days=7)).isoformat(timespec="seconds")

    assert ids(client.get(url("requests", fmt)), fmt) == everything
    assert ids(client.get(url("requests", fmt), {"status": "closed"}), fmt) == {h["old"].pk}
    assert ids(client.get(url("requests", fmt), {"status": "open,closed"}), fmt) == everything
    assert ids(client.get(url("requests", fmt), {"service_code": "depot-sauvage,nuisance-sonore"}),
               fmt) == {h["litter"].pk, h["noise"].pk}
    assert ids(client.get(url("requests", fmt), {"start_date": a_week_ago}), fmt) == \
        everything - {h["old"].pk}
    assert ids(client.get(url("requests", fmt), {"end_date": a_week_ago}), fmt) == {h["old"].pk}
    assert ids(client.get(url("requests", fmt), {
        "service_request_id": f"{h['litter'].pk},{h['noise'].pk}", "status": "closed",
    }), fmt) == {h["litter"].pk, h["noise"].pk}  # ids given: the other filters do not apply


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_and_notes_follow_the_staff(client, history, fmt):
    (closed,) = parse(client.get(url(f"requests/{history['old'].pk}", fmt)), fmt,
                      root="service_requests", item="request")

    assert closed["status"] == "closed" and closed["status_notes"] == "Ampoule changée."


@pytest.mark.parametrize("fmt", FORMATS)
def test_private_services_hide_text_and_exact_place(client, history, fmt):
    (noise,) = parse(client.get(url(f"requests/{history['noise'].pk}", fmt)), fmt,
                     root="service_requests", item="request")
    listing = client.get(url("requests", fmt)).content.decode()

    assert noise["description"] == "" and noise["address"] == ""
    assert float(noise["lat"]) == 47.318 and float(noise["long"]) == 5.037
    assert "Martin" not in listing and "voisin@example.org" not in listing


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("params, fragment", [
    ({"start_date": "hier"}, "start_date must be a W3C date-time"),
    ({"end_date": "2026-13-45"}, "end_date must be a W3C date-time"),
    ({"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, "before"),
    ({"status": "pending"}, "status must be open, closed"),
])
def test_get_requests_errors(client, catalogue, fmt, params, fragment):
    expect_error(client.get(url("requests", fmt), params), fmt, 400, fragment)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request_and_a_token(client, history, fmt):
    report = history["recent"]

    (by_token,) = parse(client.get(url(f"tokens/{report.code}", fmt)), fmt,
                        root="service_requests", item="request")

    assert by_token == {"service_request_id": str(report.pk), "token": report.code}
    expect_error(client.get(url("requests/999999", fmt)), fmt, 404, "service_request_id")
    expect_error(client.get(url("tokens/AAAA-AAAA-AAAA", fmt)), fmt, 404, "token")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_resources_answer_with_an_error_list(client, fmt):
    expect_error(client.get(f"/open311/v2/nowhere.{fmt}"), fmt, 404, "No such Open311 resource")


def test_reads_are_open_to_other_origins(client, catalogue):
    assert client.get(url("services", "json"))["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("fmt", FORMATS)
def test_posts_are_rate_limited_per_api_key(client, catalogue, open311_app, settings, fmt):
    settings.OPEN311_POST_RATE = "2/h"
    open311_app.code = f"limited-{uuid.uuid4().hex[:8]}"
    open311_app.save()

    statuses = [post(client, fmt, open311_app, lat=JAURES[0] + i / 10000).status_code
                for i in range(3)]

    assert statuses == [200, 200, 429]
    expect_error(post(client, fmt, open311_app), fmt, 429, "Too many requests")


def test_an_application_registered_in_the_admin_gets_a_key_shown_once(client, catalogue, api,
                                                                       people):
    admin = api(people["administrator"])

    response = admin.post("/admin/citizens/clientapplication/add/",
                          {"code": "fms", "name": "FixMyStreet", "contact": "", "active": "on"},
                          follow=True)

    (message,) = [str(m) for m in response.context["messages"] if "une seule fois" in str(m)]
    key = message.rsplit(": ", 1)[1]

    app = ClientApplication.objects.get(code="fms")
    assert app.key_digest == ClientApplication.digest(key) and key not in app.key_digest
    assert Event.objects.filter(type="clientapplication.created").exists()
    assert client.post(url("requests", "json"), {
        "api_key": key, "service_code": "obstacle-chaussee", "lat": JAURES[0], "long": JAURES[1],
    }).status_code == 200
