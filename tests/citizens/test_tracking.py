"""The citizen's tracking page: status and public updates only; contact data erasable."""

import re
import uuid

import pytest
from django.urls import reverse

from citizens import services
from controlroom.models import Event
from tests.citizens.conftest import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(catalogue):
    return submit(catalogue["eclairage-public"], description="Éteint devant chez Mme Dupont.",
                  contact=services.Contact(email="riverain@example.org", phone="0601020304"),
                  consent=True)


def test_the_page_shows_status_and_public_updates_only(client, report, people):
    services.report_set_status(report=report, by=people["operator"], status="in_progress",
                               note="Une équipe passera cette semaine.")

    page = client.get(reverse("citizens:track", args=[report.code])).content.decode()
    # Random tokens (CSRF) may hold any short string: look at the page without them.
    page = re.sub(r'value="[A-Za-z0-9]{32,}"', 'value=""', page)

    assert "en cours de traitement" in page and "Une équipe passera cette semaine." in page
    assert "reçu" in page  # the first step of the history
    for private in ("Mme Dupont", "riverain@example.org", "0601020304", str(report.lat)[:7]):
        assert private not in page
    assert not re.search(rf"\b{people['operator'].username}\b", page)


def test_codes_are_forgiving_on_case_and_dashes_and_unknown_ones_are_not_found(client, report):
    loose = report.code.replace("-", "").lower()

    found = client.get(reverse("citizens:track-lookup"), {"code": loose})
    missing = client.get(reverse("citizens:track-lookup"), {"code": "ZZZZ-ZZZZ-ZZZZ"})

    assert found.status_code == 302 and found["Location"].endswith(f"/{report.code}/")
    assert missing.status_code == 400 and "Aucun signalement" in missing.content.decode()
    assert client.get(reverse("citizens:track", args=["ZZZZ-ZZZZ-ZZZZ"])).status_code == 404


def test_the_citizen_erases_their_contact_data(client, report):
    url = reverse("citizens:track", args=[report.code])

    # The first click asks for confirmation and erases nothing.
    asked = client.post(url, {"action": "erase_contact"})
    assert asked.status_code == 200
    assert 'value="erase_contact_confirmed"' in asked.content.decode()
    report.refresh_from_db()
    assert report.has_contact and report.contact_erased_at is None
    assert not Event.objects.filter(type="citizen_report.contact_erased").exists()

    response = client.post(url, {"action": "erase_contact_confirmed"}, follow=True)

    report.refresh_from_db()
    assert report.email == report.phone == "" and report.contact_erased_at is not None
    assert "Vos coordonnées ont été effacées" in response.content.decode()
    event = Event.objects.get(type="citizen_report.contact_erased")
    assert event.actor_label == "citizen:tracking" and event.payload == {"report": report.pk}


def test_tracking_lookups_are_rate_limited(client, report, settings):
    settings.CITIZEN_TRACKING_RATE = "3/h"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.8"
    url = reverse("citizens:track", args=[report.code])

    codes = [client.get(url, REMOTE_ADDR=address).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
