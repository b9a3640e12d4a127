"""Offline verdicts: a grace period after the worker starts, one open alert per device across
restarts, resolved (journaled) when the device reports again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from controlroom import liveness
from controlroom.models import Event
from devices import services
from incidents.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def restarted(settings, monkeypatch):
    """The worker (re)started a moment ago: ``restarted(at)`` marks when."""
    settings.EQUIPMENT_OFFLINE_GRACE_SECONDS = 120
    monkeypatch.setattr(liveness, "_started_at", None)
    return liveness.mark_started


def test_no_offline_verdict_before_the_grace_period_ends_for_devices_not_heard_yet(
        make_device, restarted):
    now = timezone.now()
    light = make_device("lum-restart", heartbeat_seconds=60)
    quiet = make_device("lum-quiet", heartbeat_seconds=60)
    # Both were last heard an hour ago, before the control room stopped.
    for device in (light, quiet):
        services.device_report(device=device, at=now - timedelta(hours=1))
    restarted(now)

    assert services.devices_check_heartbeats(now=now + timedelta(seconds=2)) == 0
    services.device_report(device=light, at=now + timedelta(seconds=10))  # the first report
    assert services.devices_check_heartbeats(now=now + timedelta(seconds=60)) == 0
    services.device_report(device=light, at=now + timedelta(seconds=100))
    assert not Alert.objects.exists()

    # The grace period over, the device never heard since the start goes offline.
    assert services.devices_check_heartbeats(now=now + timedelta(seconds=121)) == 1
    assert Alert.objects.get().evidence["device"] == "lum-quiet"


def test_a_device_heard_since_the_start_is_judged_at_once(make_device, restarted):
    now = timezone.now()
    restarted(now - timedelta(seconds=90))
    light = make_device("lum-heard", heartbeat_seconds=60)
    services.device_report(device=light, at=now - timedelta(seconds=80))

    assert services.devices_check_heartbeats(now=now) == 1


def test_a_device_reporting_again_resolves_its_offline_alert_then_a_new_outage_alerts(make_device, categories):
    light = make_device("lum-flaky", heartbeat_seconds=60)
    first = timezone.now() - timedelta(days=2)
    services.device_report(device=light, at=first)
    assert services.devices_check_heartbeats(now=first + timedelta(minutes=5)) == 1
    # Two days later (far beyond the category's deduplication window) it is back and gone again,
    # while the operators have not closed the first alert yet: back resolves it...
    Alert.objects.update(last_seen_at=first)
    services.device_report(device=light, at=timezone.now() - timedelta(minutes=10))
    alert = Alert.objects.get()
    assert alert.status == Alert.Status.DISMISSED and alert.closed_at is not None
    assert alert.acknowledged_at is None and alert.ack_delay_seconds is None
    assert "émet de nouveau" in alert.dismiss_note
    resolved = Event.objects.get(type="alert.resolved")
    assert resolved.payload["alert"] == alert.pk and resolved.payload["status"] == "dismissed"

    # ...and the next outage raises a new alert, counted again on each later verdict.
    assert services.devices_check_heartbeats() == 1
    light.refresh_from_db()
    services.device_report(device=light, at=timezone.now() - timedelta(minutes=5))
    assert Alert.objects.filter(status=Alert.Status.NEW).count() == 0


def test_the_open_offline_alert_is_counted_again_whatever_its_age(make_device, categories):
    light = make_device("lum-old", heartbeat_seconds=60)
    long_ago = timezone.now() - timedelta(days=3)
    services.device_report(device=light, at=long_ago)
    assert services.devices_check_heartbeats(now=long_ago + timedelta(minutes=5)) == 1
    Alert.objects.update(last_seen_at=long_ago + timedelta(minutes=5))
    # The device came back without the control room noticing (it was stopped), then went silent.
    from devices.models import Device

    Device.objects.filter(pk=light.pk).update(online=True,
                                              last_seen_at=timezone.now() - timedelta(minutes=5))
    assert services.devices_check_heartbeats() == 1

    alert = Alert.objects.get()
    assert alert.repeat_count == 2 and alert.status == Alert.Status.NEW
    assert Event.objects.filter(type="alert.repeated").count() == 1


def test_an_acknowledged_offline_alert_is_resolved_when_the_device_reports(make_device, people):
    from incidents.services import alerts as alert_services

    light = make_device("lum-ack", heartbeat_seconds=60)
    services.device_report(device=light, at=timezone.now() - timedelta(minutes=5))
    services.devices_check_heartbeats()
    alert = alert_services.alert_acknowledge(alert=Alert.objects.get(), by=people["operator"])
    light.refresh_from_db()

    services.device_report(device=light)

    alert.refresh_from_db()
    assert alert.status == Alert.Status.DISMISSED
    assert alert.acknowledged_by == people["operator"]
    assert Event.objects.filter(type="alert.resolved").count() == 1


def test_another_emitters_alert_with_the_same_key_is_neither_counted_nor_resolved(
        make_device, categories):
    from incidents.services import alerts as alert_services

    light = make_device("lum-key", heartbeat_seconds=60)
    foreign = alert_services.alert_receive(
        by="system:test", source=Alert.Source.PARTNER, source_system="avl",
        category=categories["panne_equipement"], title="Clé empruntée", lat=light.lat,
        lon=light.lon, dedup_key="device-offline:lum-key").alert
    services.device_report(device=light, at=timezone.now() - timedelta(minutes=5))
    assert services.devices_check_heartbeats() == 1
    light.refresh_from_db()
    services.device_report(device=light)

    foreign.refresh_from_db()
    assert foreign.status == Alert.Status.NEW and foreign.repeat_count == 1
    assert Alert.objects.get(source=Alert.Source.SENSOR).status == Alert.Status.DISMISSED
