"""The public form: no account, every refusal explained in French, nothing written on refusal."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from citizens.models import Report, ReportPhoto
from controlroom.models import Event
from incidents.models import Alert
from tests.citizens.conftest import DARCY, JAURES, PARIS, photo

pytestmark = pytest.mark.django_db


def form_url(code="eclairage-public"):
    return reverse("citizens:report-form", args=[code])


def valid(**changes):
    data = {
        "description": "Trois lampadaires éteints devant l'école.",
        "lat": JAURES[0], "lon": JAURES[1],
        "address_string": "Devant l'école",
        "attribut_lampadaires": "plusieurs",
        "email": "", "phone": "", "website": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def upload(content=None, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, photo() if content is None else content, content_type)


def written(settings) -> tuple:
    media = settings.MEDIA_ROOT
    files = sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []
    return (Report.objects.count(), Alert.objects.count(), ReportPhoto.objects.count(),
            Event.objects.count(), files)


def test_the_start_page_lists_the_services_by_group(client, catalogue):
    page = client.get(reverse("citizens:report-start")).content.decode()

    assert "Éclairage public en panne" in page and "Voirie et propreté" in page
    assert form_url() in page


def test_the_form_shows_the_service_questions_the_map_and_the_consent_text(client, catalogue):
    page = client.get(form_url()).content.decode()

    assert "Combien de lampadaires sont concernés ?" in page
    assert 'id="report-map"' in page and "leaflet/leaflet.js" in page
    assert "J&#x27;accepte que la police municipale" in page
    assert "unpkg" not in page and "cdn" not in page.lower()


def test_a_valid_report_is_stored_and_becomes_an_alert_with_a_tracking_code(client, catalogue):
    response = client.post(form_url(), valid(
        email="riverain@example.org", consent="on",
        photos=[upload(photo(gps=True)), upload(photo(fmt="PNG"), "b.png", "image/png")],
    ))

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("citizens:done", args=[report.code])
    assert report.status == "received" and report.channel == "web"
    assert report.attributes == {"lampadaires": "plusieurs"}
    assert report.email == "riverain@example.org" and report.contact_consent_at
    assert report.photos.count() == 2
    for stored in report.photos.all():
        assert b"Exif" not in stored.image.read()
    alert = report.alert
    assert alert.source == "citizen" and alert.category.code == "eclairage_defaillant"
    assert alert.evidence["url"] == reverse("citizens:staff-report", args=[report.pk])
    event = Event.objects.get(type="citizen_report.received")
    assert event.payload["report"] == report.pk and event.payload["photos"] == 2
    assert "riverain@example.org" not in str(Event.objects.values_list("payload", flat=True))

    done = client.get(response["Location"]).content.decode()
    assert report.code in done and reverse("citizens:track", args=[report.code]) in done


@pytest.mark.parametrize("changes, files, message", [
    ({"lat": None, "lon": None}, None, "Indiquez le lieu du problème sur la carte"),
    ({"lat": PARIS[0], "lon": PARIS[1]}, None, "en dehors de la commune"),
    ({"lat": "abc"}, None, "Saisissez un nombre"),
    ({"description": "court"}, None, "au moins 10 caractères"),
    ({"description": "x" * 4001}, None, "au plus 4000 caractères"),
    ({"attribut_lampadaires": ""}, None, "Ce champ est obligatoire"),
    ({"attribut_lampadaires": "trente"}, None, "Sélectionnez un choix valide"),
    ({"email": "pas-un-courriel"}, None, "adresse e-mail valide"),
    ({"phone": "appelez-moi"}, None, "numéro de téléphone valide"),
    ({"email": "riverain@example.org"}, None, "Cochez cette case"),
    ({"website": "http://spam.example"}, None, "n&#x27;a pas pu être envoyé"),
    ({}, [upload(b"MZ\x90\x00 not an image", "photo.jpg")], "pas une photo lisible"),
    ({}, [upload(photo(fmt="GIF"), "anim.gif", "image/gif")], "pas accepté"),
    ({}, [upload() for _ in range(6)], "5 photos au plus"),
])
def test_each_refusal_says_why_in_french_and_writes_nothing(client, catalogue, settings,
                                                             changes, files, message):
    before = written(settings)
    data = valid(**changes)
    if files:
        data["photos"] = files

    response = client.post(form_url(), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert written(settings) == before


def test_a_photo_over_the_size_limit_is_refused(client, catalogue, settings):
    before = written(settings)
    big = upload(b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024 + 1))

    response = client.post(form_url(), valid(photos=[big]))

    assert response.status_code == 400
    assert "moins de 10 Mo" in response.content.decode()
    assert written(settings) == before


def test_an_unknown_or_retired_service_is_not_found(client, catalogue):
    catalogue["autre"].active = False
    catalogue["autre"].save()

    assert client.get(form_url("nimporte-quoi")).status_code == 404
    assert client.post(form_url("autre"), valid()).status_code == 404
    assert not Report.objects.exists()


def test_posting_without_the_csrf_token_is_refused(catalogue):
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(form_url(), valid()).status_code == 403
    assert not Report.objects.exists()


def test_reports_are_rate_limited_per_address(client, catalogue, settings):
    settings.CITIZEN_REPORT_RATE = "2/h"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"

    codes = [client.post(form_url(), valid(), REMOTE_ADDR=address).status_code for _ in range(3)]
    other = client.post(form_url(), valid(lat=DARCY[0], lon=DARCY[1]), REMOTE_ADDR="10.9.9.9")

    assert codes == [302, 302, 429]
    assert other.status_code == 302
    assert Report.objects.count() == 3


def test_a_whole_request_above_the_limit_is_refused_unread(client, catalogue, settings):
    settings.CITIZEN_MAX_REQUEST_BYTES = 1000

    response = client.post(form_url(), valid(photos=[upload()]))

    assert response.status_code == 413
    assert "trop volumineux" in response.content.decode()
    assert not Report.objects.exists()
