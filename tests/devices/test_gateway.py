"""The MQTT gateway against the real broker: no frame stops it, and a dead loop is restarted."""

import queue
import random
import time

import pytest

from controlroom.models import Event
from devices.drivers import topic
from devices.drivers.mqtt import MAX_DEPTH, client, decode
from devices.equipment_mqtt import DeviceGateway
from devices.models import TelemetryReading
from devices.services import telemetry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("payload", [
    b"", b"\xff\xfe\x00garbage", b'{"state": "\xc3\x28"}', b"[" * 60000,
    b'{"a":' * 10000 + b"1" + b"}" * 10000, b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}",
    b'{"values": {"laeq_db": NaN}}', b'{"values": {"laeq_db": -Infinity}}',
    b'{"values": {"laeq_db": 1e400}}', b'{"values": {"people": ' + b"9" * 4000 + b"}}",
    b'[{"state": {}}]', b'"state"', b"42", b"null", b"x" * 70_000,
])
def test_decode_refuses_what_is_not_a_sensible_object(payload):
    with pytest.raises(ValueError):
        decode(payload)


def fuzzed_frames(rng: random.Random, count: int) -> list[bytes]:
    """Frames a broken or hostile device might send: every kind of malformed payload."""
    def nested(depth):
        return b'{"state": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"

    makers = [
        lambda: rng.randbytes(rng.randint(0, 300)),
        lambda: b'{"state": {"on": "' + rng.randbytes(8) + b'\xff"}}',
        lambda: rng.choice([b"[", b'{"a":']) * rng.randint(2000, 30000),
        lambda: nested(rng.randint(MAX_DEPTH + 1, 900)),
        lambda: b'{"values": {"laeq_db": ' + rng.choice([b"1e999", b"-1e400", b"9" * 5000,
                                                         b"123456789012345678901234"]) + b"}}",
        lambda: b'{"values": {"laeq_db": ' + rng.choice([b"NaN", b"Infinity", b"-Infinity"])
        + b"}}",
        lambda: rng.choice([b"[]", b'"on"', b"3.5", b"null", b"true", b'{"state": 5}',
                            b'{"state": [1, 2]}', b'{"values": "loud"}', b'{"values": [70]}',
                            b'{"values": {"laeq_db": "loud"}}', b'{"values": {"laeq_db": true}}',
                            b'{"values": {"laeq_db": 50}, "at": "2026-02-31T25:00:00"}',
                            b'{"state": null}', b"{}"]),
        lambda: b'{"state": {"lines": ["' + b"x" * 70_000 + b'"]}}',
        lambda: b"\xef\xbb\xbf" + rng.randbytes(20),
    ]
    return [rng.choice(makers)() for _ in range(count)]


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_gateway_survives_100_fuzzed_frames_then_ingests_a_valid_one(make_device, mqtt,
                                                                        caplog):
    sensor = make_device("sono-fuzz", kind="noise_sensor", driver="mqtt")
    reports = queue.Queue()
    gateway = DeviceGateway(url=mqtt.MQTT_URL, prefix=mqtt.MQTT_TOPIC_PREFIX,
                            on_report=lambda *report: reports.put(report)).start()
    device = client(mqtt.MQTT_URL, "fuzzer")
    device.loop_start()
    rng = random.Random(20261205)
    try:
        for frame in fuzzed_frames(rng, 100):
            channel = rng.choice(["state", "telemetry"])
            device.publish(topic(mqtt.MQTT_TOPIC_PREFIX, sensor.address, channel), frame,
                           qos=1).wait_for_publish(5)
        device.publish(topic(mqtt.MQTT_TOPIC_PREFIX, sensor.address, "telemetry"),
                       b'{"values": {"laeq_db": 64.5}}', qos=1).wait_for_publish(5)
        assert wait_for(lambda: gateway.received + gateway.rejected == 101), (
            gateway.received, gateway.rejected)
        assert gateway.alive() and gateway.restarts == 0
    finally:
        device.loop_stop()
        device.disconnect()
        gateway.stop()

    assert gateway.rejected >= 60
    assert "Rejected MQTT frame" in caplog.text
    # What got through is a JSON object; the service ignores what it cannot use.
    while not reports.empty():
        address, channel, data = reports.get()
        telemetry.device_message(address=address, channel=channel, data=data)
    values = list(TelemetryReading.objects.filter(device=sensor).values_list("value", flat=True))
    assert 64.5 in values and all(0 <= value < 200 for value in values)
    assert not Event.objects.filter(type="device.state").exists()


def test_the_gateway_notices_a_dead_loop_and_connects_again(make_device, mqtt, caplog):
    reports = queue.Queue()
    gateway = DeviceGateway(url=mqtt.MQTT_URL, prefix=mqtt.MQTT_TOPIC_PREFIX,
                            on_report=lambda *report: reports.put(report),
                            watch_seconds=0.1).start()
    device = client(mqtt.MQTT_URL, "device")
    device.loop_start()
    try:
        dead = gateway.loop
        gateway.mq.disconnect()  # the network loop ends, as when an error escapes it
        dead.join(5)
        assert wait_for(lambda: gateway.restarts == 1 and gateway.subscribed.is_set())
        device.publish(topic(mqtt.MQTT_TOPIC_PREFIX, "lum-back", "state"),
                       b'{"state": {"on": true}}', qos=1).wait_for_publish(5)
        assert reports.get(timeout=5) == ("lum-back", "state", {"state": {"on": True}})
    finally:
        device.loop_stop()
        device.disconnect()
        gateway.stop()
    assert "network loop stopped" in caplog.text
