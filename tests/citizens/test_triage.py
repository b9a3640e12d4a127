"""Reports become alerts; close reports of one service make one alert; staff set the public status."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from citizens import services
from citizens.models import Report
from controlroom.models import Event
from incidents.models import Alert
from incidents.services import alerts as alert_services
from tests.citizens.conftest import DARCY, JAURES, metres_north, photo, submit

pytestmark = pytest.mark.django_db


def test_twenty_reports_of_one_street_light_are_one_alert(catalogue):
    light = catalogue["eclairage-public"]
    reports = [submit(light, place=metres_north(JAURES, (i % 5) * 10)) for i in range(20)]

    alert = Alert.objects.get()
    assert alert.repeat_count == 20
    assert {r.alert_id for r in reports} == {alert.pk}
    assert Event.objects.filter(type="alert.repeated").count() == 19
    assert Event.objects.filter(type="citizen_report.received").count() == 20


@pytest.mark.parametrize("change", ["far", "other_service", "old", "closed_alert"])
def test_a_report_outside_the_group_makes_its_own_alert(catalogue, change):
    light = catalogue["eclairage-public"]
    first = submit(light)
    service, place = light, JAURES
    if change == "far":
        place = metres_north(JAURES, light.group_radius_m + 30)
    elif change == "other_service":
        service = catalogue["depot-sauvage"]
    elif change == "old":
        Report.objects.filter(pk=first.pk).update(
            requested_at=timezone.now() - timedelta(hours=light.group_window_hours + 1))
    elif change == "closed_alert":
        alert_services.alert_dismiss(alert=first.alert, by="system:test", reason="duplicate")

    second = submit(service, place=place, attributes={"lampadaires": "un", "volume": "sac"})

    assert second.alert_id != first.alert_id
    assert Alert.objects.count() == 2


def test_the_alert_carries_what_the_operator_needs_and_is_pushed(catalogue):
    report = submit(catalogue["eclairage-public"], photos=[photo()],
                    description="Lampadaire éteint <b>devant</b> l'école.")

    event = Event.objects.get(type="alert.received")
    assert event.payload["source"] == "citizen"
    assert event.payload["evidence"]["description"] == "Lampadaire éteint <b>devant</b> l'école."
    assert event.payload["evidence"]["photos"] == 1
    assert event.payload["evidence"]["url"] == f"/console/signalements/{report.pk}/"


def test_staff_set_the_public_status_of_the_whole_group(catalogue, people):
    light = catalogue["eclairage-public"]
    first, second, third = (submit(light, place=metres_north(JAURES, d)) for d in (0, 10, 20))

    changed = services.report_set_status(report=first, by=people["operator"], status="resolved",
                                         note="Lampadaires réparés.", whole_group=True)

    assert {r.pk for r in changed} == {first.pk, second.pk, third.pk}
    for report in Report.objects.all():
        assert report.status == "resolved" and report.status_notes == "Lampadaires réparés."
        assert report.closed_at is not None
        assert report.updates.last().note == "Lampadaires réparés."
    events = Event.objects.filter(type="citizen_report.status_changed")
    assert events.count() == 3
    assert {e.payload["previous"] for e in events} == {"received"}
    assert {e.actor_id for e in events} == {people["operator"].pk}


def test_a_rejection_needs_a_reason_and_an_unknown_status_is_refused(catalogue, people):
    report = submit(catalogue["eclairage-public"])

    with pytest.raises(ValidationError, match="raison du rejet"):
        services.report_set_status(report=report, by=people["operator"], status="rejected")
    with pytest.raises(ValidationError, match="État inconnu"):
        services.report_set_status(report=report, by=people["operator"], status="perdu")
    report.refresh_from_db()
    assert report.status == "received"
    assert not Event.objects.filter(type="citizen_report.status_changed").exists()


def test_only_control_room_staff_change_a_report(catalogue, people):
    report = submit(catalogue["eclairage-public"])

    with pytest.raises(PermissionDenied):
        services.report_set_status(report=report, by=people["liaison_pn"], status="in_progress")


def test_staff_pages_show_the_report_its_photos_and_group(client, catalogue, people):
    light = catalogue["eclairage-public"]
    report = submit(light, photos=[photo()], description="<script>alert(1)</script> lampadaire")
    submit(light, place=metres_north(JAURES, 15))
    client.force_login(people["operator"])

    listing = client.get(reverse("citizens:staff-reports"))
    detail = client.get(reverse("citizens:staff-report", args=[report.pk]))
    image = client.get(reverse("citizens:staff-photo", args=[report.pk, report.photos.get().pk]))

    assert listing.status_code == detail.status_code == image.status_code == 200
    page = detail.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Signalements regroupés" in page
    assert image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:2] == b"\xff\xd8"


def test_staff_change_the_status_from_the_page(client, catalogue, people):
    report = submit(catalogue["eclairage-public"])
    client.force_login(people["operator"])
    url = reverse("citizens:staff-report", args=[report.pk])

    refused = client.post(url, {"status": "rejected", "note": ""})
    accepted = client.post(url, {"status": "in_progress", "note": "Équipe prévenue."})

    assert refused.status_code == 400 and "raison du rejet" in refused.content.decode()
    assert accepted.status_code == 302
    report.refresh_from_db()
    assert report.status == "in_progress" and report.status_notes == "Équipe prévenue."


@pytest.mark.parametrize("who, expected", [("liaison_pn", 403), ("anonymous", 302)])
def test_reports_and_photos_are_staff_only(client, catalogue, people, who, expected):
    report = submit(catalogue["eclairage-public"], photos=[photo()])
    if who != "anonymous":
        client.force_login(people[who])

    for url in (reverse("citizens:staff-reports"),
                reverse("citizens:staff-report", args=[report.pk]),
                reverse("citizens:staff-photo", args=[report.pk, report.photos.get().pk])):
        assert client.get(url).status_code == expected


def test_contact_data_is_erased_when_its_retention_ends(catalogue, people, settings):
    settings.CITIZEN_CONTACT_RETENTION_DAYS = 30
    old = submit(catalogue["eclairage-public"], contact=services.Contact(email="a@example.org"),
                 consent=True)
    recent = submit(catalogue["depot-sauvage"], place=DARCY, attributes={},
                    contact=services.Contact(phone="0601020304"), consent=True)
    for report in (old, recent):
        services.report_set_status(report=report, by=people["operator"], status="resolved")
    Report.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=31))

    assert services.contacts_erase_expired() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.email == "" and old.contact_erased_at is not None
    assert recent.phone == "0601020304"


def test_the_console_layer_shows_open_reports_to_staff_only(api, catalogue, people):
    light = catalogue["eclairage-public"]
    shown = submit(light)
    closed = submit(catalogue["depot-sauvage"], attributes={}, place=DARCY)
    services.report_set_status(report=closed, by=people["operator"], status="resolved")

    staff = api(people["operator"]).get("/api/layers/citizen_reports.geojson").json()
    liaison = api(people["liaison_pn"]).get("/api/layers/citizen_reports.geojson").json()

    (feature,) = staff["features"]
    assert feature["id"] == f"report-{shown.pk}"
    assert feature["geometry"]["coordinates"] == [shown.lon, shown.lat]
    assert feature["properties"]["service_name"] == "Éclairage public en panne"
    assert feature["properties"]["alert"] == shown.alert_id
    assert liaison["features"] == []
