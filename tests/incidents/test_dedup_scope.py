"""Dedup keys belong to the system that emits them: a partner cannot reach the control room's own
alerts (nor another partner's) by posting their key."""

import pytest
from django.test import Client

from incidents.models import Alert, PartnerSystem
from incidents.services import alerts as alert_services
from tests.incidents.conftest import DARCY

pytestmark = pytest.mark.django_db

KEY = "video:cam-darcy:intrusion:quai"


@pytest.fixture
def partner_token(agencies):
    system = PartnerSystem(code="avl-pn", name="AVL PN", agency=agencies["pn"], scopes=["alerts"])
    token = system.issue_token()
    system.save()
    return token


def camera_alert(categories, title="Intrusion — Darcy"):
    return alert_services.alert_receive(
        by="system:video", source=Alert.Source.CAMERA, source_system="video",
        category=categories["rixe"], title=title, lat=DARCY[0], lon=DARCY[1], dedup_key=KEY)


def partner_post(token, title):
    body = {"category": "rixe", "lat": DARCY[0], "lon": DARCY[1], "title": title,
            "dedup_key": KEY}
    return Client().post("/api/alerts/", body, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_partner_posting_a_system_key_gets_an_alert_of_its_own(city, categories, partner_token):
    own = camera_alert(categories).alert
    response = partner_post(partner_token, "Titre du partenaire")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != own.pk and body["title"] == "Titre du partenaire"
    own.refresh_from_db()
    assert own.repeat_count == 1 and own.title == "Intrusion — Darcy"


def test_a_partner_key_does_not_absorb_the_systems_own_alerts(city, categories, partner_token):
    assert partner_post(partner_token, "Faux intitulé").status_code == 201
    received = camera_alert(categories)
    assert received.created and received.alert.title == "Intrusion — Darcy"
    assert received.alert.source == Alert.Source.CAMERA
    assert Alert.objects.get(source=Alert.Source.PARTNER).repeat_count == 1


def test_the_same_emitter_is_still_deduplicated(city, categories, partner_token):
    first = camera_alert(categories)
    again = camera_alert(categories, title="Autre")
    assert first.created and not again.created and again.alert.pk == first.alert.pk
    assert Alert.objects.get(pk=first.alert.pk).repeat_count == 2
    assert partner_post(partner_token, "Un").status_code == 201
    assert partner_post(partner_token, "Deux").status_code == 200
