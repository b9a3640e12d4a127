"""A citizen whose report was refused tries again: the refusal uses up nothing, the photos
already attached are kept, the form reads in the citizen's language, and streets place the map."""

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from citizens.models import Report
from tests.citizens.conftest import JAURES, photo
from tests.citizens.test_form import form_url, upload, valid

pytestmark = pytest.mark.django_db


def address():
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9"


def test_refused_reports_do_not_use_up_the_allowance(client, catalogue, settings):
    settings.CITIZEN_REPORT_RATE = "2/h"
    ip = address()

    refused = [client.post(form_url(), valid(description="court"), REMOTE_ADDR=ip).status_code
               for _ in range(4)]
    accepted = [client.post(form_url(), valid(), REMOTE_ADDR=ip).status_code for _ in range(3)]

    assert refused == [400] * 4
    assert accepted == [302, 302, 429]
    assert Report.objects.count() == 2


def test_scripted_attempts_are_limited_even_when_all_are_refused(client, catalogue, settings):
    settings.CITIZEN_REPORT_ATTEMPT_RATE = "3/h"
    ip = address()

    codes = [client.post(form_url(), valid(description="court"), REMOTE_ADDR=ip).status_code
             for _ in range(4)]
    last = client.post(form_url(), valid(), REMOTE_ADDR=ip)

    assert codes == [400, 400, 400, 429]
    assert last.status_code == 429 and "Trop de signalements" in last.content.decode()
    assert not Report.objects.exists()


def kept_token(page: str) -> str:
    found = re.search(r'name="kept_photos" value="([^"]+)"', page)
    return found.group(1) if found else ""


def test_a_valid_photo_is_kept_when_another_field_fails(client, catalogue, settings):
    first = client.post(form_url(), valid(description="court",
                                          photos=[upload(photo(gps=True), "lampadaire.jpg")]))
    page = first.content.decode()

    assert first.status_code == 400
    assert "lampadaire.jpg" in page and "inutile de la joindre à nouveau" in page
    token = kept_token(page)
    assert token
    assert not Report.objects.exists()

    second = client.post(form_url(), valid(kept_photos=token))

    assert second.status_code == 302
    report = Report.objects.get()
    assert report.photos.count() == 1
    assert b"Exif" not in report.photos.get().image.read()
    # Used once: the same token brings nothing a second time.
    third = client.post(form_url(), valid(kept_photos=token, lat=JAURES[0] + 0.001))
    assert third.status_code == 302
    assert Report.objects.order_by("-pk").first().photos.count() == 0


def test_kept_photos_can_be_removed_or_replaced(client, catalogue):
    token = kept_token(client.post(form_url(), valid(
        description="court", photos=[upload(), upload(name="b.jpg")])).content.decode())

    dropped = client.post(form_url(), valid(kept_photos=token, drop_kept_photos="on"))
    assert dropped.status_code == 302
    assert Report.objects.get().photos.count() == 0

    token = kept_token(client.post(form_url(), valid(
        description="court", photos=[upload(), upload(name="b.jpg")])).content.decode())
    replaced = client.post(form_url(), valid(kept_photos=token, lat=JAURES[0] + 0.001,
                                             photos=[upload(name="c.jpg")]))
    assert replaced.status_code == 302
    assert Report.objects.order_by("-pk").first().photos.count() == 1


def test_a_forged_token_brings_no_photo(client, catalogue):
    response = client.post(form_url(), valid(kept_photos="../../etc:forged"))

    assert response.status_code == 302
    assert Report.objects.get().photos.count() == 0


def test_an_unreadable_photo_is_named_on_a_refused_form_and_not_kept(client, catalogue):
    response = client.post(form_url(), valid(
        description="court", photos=[upload(b"MZ\x90\x00 not an image", "virus.jpg")]))
    page = response.content.decode()

    assert response.status_code == 400
    assert "pas une photo lisible" in page
    assert not kept_token(page)


def test_the_photo_help_text_follows_the_language(client, catalogue):
    with translation.override("en"):
        english = client.get(form_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get(form_url(), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Up to 5 photos" in english and "Jusqu&#x27;à 5 photos" not in english
    assert "Jusqu&#x27;à 5 photos" in french


def test_the_form_lists_the_city_streets(client, catalogue):
    page = client.get(form_url()).content.decode()

    assert 'id="street-search"' in page and 'list="street-list"' in page
    assert '<option value="Rue Berbisey">' in page
    assert "Place Darcy" in page


def test_only_streets_inside_the_city_are_offered(catalogue, settings, tmp_path):
    from controlroom import selectors

    listed = tmp_path / "voies.json"
    listed.write_text('{"streets": [{"name": "Rue Berbisey", "lat": 47.3178, "lon": 5.0368},'
                      ' {"name": "Rue de Rivoli", "lat": 48.8606, "lon": 2.3376}]}')
    settings.CITY_STREETS_FILE = str(listed)

    assert [street["name"] for street in selectors.city_streets()] == ["Rue Berbisey"]
    reverse("citizens:report-start")


def test_a_refused_photo_is_explained_in_the_citizens_language(client, catalogue):
    client.cookies["django_language"] = "en"
    response = client.post(form_url(), valid(photos=[upload(b"MZ\x90 not an image", "x.jpg")]),
                           HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "This file is not a readable photo" in response.content.decode()
    assert not Report.objects.exists()
