"""Fixtures for street devices: devices in Dijon, a quiet simulator, and the real MQTT broker."""

import os
import socket
import uuid

import pytest

from devices.drivers.mqtt import connection
from devices.drivers.simulator import SimulatorDriver
from devices.equipment_mqtt import EquipmentSimulator
from devices.models import Device
from tests.conftest import require

MQTT_URL = os.environ.get("MQTT_TEST_URL", "")
DARCY = (47.3225, 5.0352)
REPUBLIQUE = (47.3268, 5.0455)


@pytest.fixture
def make_device(city, categories):
    from controlroom.selectors import sector_at

    def make(code, kind="street_light", place=DARCY, driver="simulator", **extra):
        device = Device(code=code, name=code.replace("-", " ").title(), kind=kind,
                        driver=driver, address=extra.pop("address", code), **extra)
        device.set_point(*place)
        device.sector = sector_at(lat=place[0], lon=place[1])
        device.save()
        return device

    return make


@pytest.fixture
def quick_simulator():
    """The in-process simulator, fast and always answering."""
    return SimulatorDriver(delay=(0.0, 0.01), failure_rate=0.0)


@pytest.fixture
def mqtt(settings):
    """The real broker, with topics of this test's own, and quick timeouts."""
    reachable = False
    if MQTT_URL:
        params = connection(MQTT_URL)
        try:
            socket.create_connection((params["host"], params["port"]), timeout=2).close()
            reachable = True
        except OSError:
            pass
    require(reachable, "needs an MQTT broker: set MQTT_TEST_URL (e.g. mqtt://127.0.0.1:1883)")
    settings.MQTT_URL = MQTT_URL
    settings.MQTT_TOPIC_PREFIX = f"test-{uuid.uuid4().hex[:10]}"
    settings.DEVICE_ACK_TIMEOUT_SECONDS = 2
    settings.DEVICE_RETRY_BACKOFF_SECONDS = 0.1
    return settings


@pytest.fixture
def equipment(mqtt):
    """Start an equipment simulator on the broker for some devices; stopped after the test."""
    started = []

    def start(devices, **options):
        simulator = EquipmentSimulator(
            url=mqtt.MQTT_URL, prefix=mqtt.MQTT_TOPIC_PREFIX,
            devices={d.address: d.kind for d in devices},
            delay=options.pop("delay", (0.01, 0.05)), telemetry_seconds=0, **options,
        ).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def make_incident_at(people, categories):
    from incidents.services import incidents as incident_services

    def make(place, category="rixe", **extra):
        return incident_services.incident_create(
            by=people["operator"], category=categories[category], title="Incident de test",
            lat=place[0], lon=place[1], **extra,
        )

    return make
