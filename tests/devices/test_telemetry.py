"""Telemetry: readings, the night-noise rule raising one alert per episode, roll-up into buckets,
offline detection, the built-in simulator, and state/telemetry over the real MQTT broker."""

import queue
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from controlroom.models import Event
from devices import services
from devices.equipment_mqtt import DeviceGateway, EquipmentSimulator
from devices.models import Device, TelemetryBucket, TelemetryReading, TelemetryRule
from devices.services import telemetry
from incidents.models import Alert
from tests.devices.conftest import DARCY, REPUBLIQUE

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NIGHT = datetime(2026, 11, 20, 23, 0, tzinfo=PARIS)
DAY = datetime(2026, 11, 20, 15, 0, tzinfo=PARIS)


@pytest.fixture
def night_rule(categories):
    return TelemetryRule.objects.create(
        name="Bruit nocturne", metric="laeq_db", comparison=">", threshold=70,
        aggregation="leq", window_seconds=600, time_start=time(22), time_end=time(7),
        category=categories["nuisance_sonore"],
    )


def feed(device, start, levels, step=60):
    """One reading a minute (by default) from ``start``; returns the time after the last."""
    for i, level in enumerate(levels):
        telemetry.telemetry_record(device=device, values={"laeq_db": level},
                                   at=start + timedelta(seconds=i * step))
    return start + timedelta(seconds=len(levels) * step)


def test_a_loud_night_raises_one_alert_per_episode(make_device, night_rule):
    sensor = make_device("sono-1", kind="noise_sensor")

    after = feed(sensor, NIGHT, [76] * 15)
    assert Alert.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.source == "sensor" and alert.category.code == "nuisance_sonore"
    assert alert.evidence["value"] == 76.0 and alert.evidence["threshold"] == 70
    assert alert.repeat_count == 1  # still holding: nothing more raised

    after = feed(sensor, after, [50] * 12)
    assert Event.objects.filter(type="telemetry_rule.cleared").count() == 1
    # A new episode while the operator has not handled the alert yet counts on it…
    after = feed(sensor, after, [80] * 12)
    assert Alert.objects.count() == 1 and Alert.objects.get().repeat_count == 2
    # …and once it is handled, the next episode is a new alert.
    from incidents.services.alerts import alert_dismiss

    alert_dismiss(alert=Alert.objects.get(), by="system:test", reason="already_handled")
    after = feed(sensor, after, [50] * 12)
    feed(sensor, after, [80] * 12)
    assert Alert.objects.count() == 2


def test_the_same_noise_by_day_raises_nothing(make_device, night_rule):
    feed(make_device("sono-2", kind="noise_sensor"), DAY, [76] * 15)

    assert not Alert.objects.exists()


def test_one_loud_minute_among_quiet_ones_stays_under_the_threshold(make_device, night_rule):
    feed(make_device("sono-3", kind="noise_sensor"), NIGHT, [55] * 10 + [78] + [55] * 4)

    assert not Alert.objects.exists()


def test_rules_apply_to_their_sectors_only(make_device, night_rule, city):
    night_rule.sectors.set([city.sectors.exclude(pk=make_device(
        "sono-elsewhere", kind="noise_sensor", place=REPUBLIQUE).sector_id).first()])
    sensor = Device.objects.get(code="sono-elsewhere")

    feed(sensor, NIGHT, [80] * 12)

    assert not Alert.objects.exists()


def test_metrics_a_device_does_not_report_are_ignored(make_device):
    counter = make_device("compteur-1", kind="people_counter")

    telemetry.telemetry_record(device=counter, values={"people": 12, "laeq_db": 99, "x": "y"})

    assert list(TelemetryReading.objects.values_list("metric", "value")) == [("people", 12.0)]


@pytest.mark.parametrize("changes, message", [
    ({"aggregation": "instant", "window_seconds": 60}, "instant"),
    ({"aggregation": "leq", "window_seconds": 0}, "fenêtre"),
    ({"time_start": time(22), "time_end": None}, "deux heures"),
    ({"days": [9]}, "jour"),
])
def test_inconsistent_rules_are_refused_in_the_admin(categories, changes, message):
    rule = TelemetryRule(name="r", metric="laeq_db", comparison=">", threshold=70,
                         aggregation="leq", window_seconds=600, time_start=time(22),
                         time_end=time(7), category=categories["nuisance_sonore"])
    for name, value in changes.items():
        setattr(rule, name, value)

    with pytest.raises(ValidationError, match=message):
        rule.clean()


def test_raw_readings_roll_up_into_quarter_hours_then_expire(make_device, settings):
    settings.TELEMETRY_RAW_RETENTION_HOURS = 1
    sensor = make_device("sono-4", kind="noise_sensor")
    start = datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)
    feed(sensor, start, [60, 70] * 15)  # 30 minutes, one reading a minute

    written = telemetry.telemetry_roll_up(now=start + timedelta(hours=3))

    buckets = list(TelemetryBucket.objects.order_by("start"))
    assert written == 2 and [b.count for b in buckets] == [15, 15]
    assert buckets[0].start == start and buckets[0].minimum == 60 and buckets[0].maximum == 70
    # 8 readings of 60 dB and 7 of 70 dB: 10·log10((8·10^6 + 7·10^7) / 15) = 67.16 dB
    assert buckets[0].leq == pytest.approx(67.16, abs=0.01)
    assert not TelemetryReading.objects.exists()
    assert telemetry.telemetry_roll_up(now=start + timedelta(hours=3)) == 0  # idempotent


def test_a_silent_device_goes_offline_with_one_alert_and_comes_back(make_device, categories):
    light = make_device("lum-silent", heartbeat_seconds=60)
    services.device_report(device=light, at=datetime(2026, 11, 20, 10, 0, tzinfo=PARIS))
    later = datetime(2026, 11, 20, 10, 5, tzinfo=PARIS)

    assert services.devices_check_heartbeats(now=later) == 1
    assert services.devices_check_heartbeats(now=later) == 0
    alert = Alert.objects.get()
    assert alert.category.code == "panne_equipement" and "lum-silent" in alert.evidence["device"]
    light.refresh_from_db()
    assert not light.online

    services.device_report(device=light)
    light.refresh_from_db()
    assert light.online
    assert Event.objects.filter(type="device.back_online").count() == 1


def test_the_builtin_simulator_keeps_devices_alive_and_sensors_reporting(make_device):
    make_device("lum-sim")
    make_device("sono-sim", kind="noise_sensor", simulation={"noise_offset_db": 30})

    assert telemetry.simulator_tick() == 2

    assert not Device.objects.filter(last_seen_at=None).exists()
    assert TelemetryReading.objects.filter(device__code="sono-sim", metric="laeq_db").count() == 1


def test_state_and_telemetry_arrive_over_mqtt(make_device, mqtt):
    sensor = make_device("sono-mqtt", kind="noise_sensor", driver="mqtt")
    light = make_device("lum-mqtt-state", driver="mqtt", place=DARCY)
    received = queue.Queue()
    gateway = DeviceGateway(url=mqtt.MQTT_URL, prefix=mqtt.MQTT_TOPIC_PREFIX,
                            on_report=lambda *report: received.put(report)).start()
    simulator = EquipmentSimulator(url=mqtt.MQTT_URL, prefix=mqtt.MQTT_TOPIC_PREFIX,
                                   devices={sensor.address: sensor.kind, light.address: light.kind},
                                   states={light.address: {"on": True, "level": 70}},
                                   telemetry_seconds=0.2)
    try:
        import time as clock

        clock.sleep(0.3)  # the gateway's subscription is in place
        simulator.start()
        channels = set()
        while not {("sono-mqtt", "telemetry"), ("lum-mqtt-state", "state")} <= channels:
            address, channel, data = received.get(timeout=5)
            telemetry.device_message(address=address, channel=channel, data=data)
            channels.add((address, channel))
    finally:
        simulator.stop()
        gateway.stop()

    assert TelemetryReading.objects.filter(device=sensor, metric="laeq_db").exists()
    light.refresh_from_db()
    assert light.state == {"on": True, "level": 70} and light.last_seen_at is not None
