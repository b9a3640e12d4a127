"""MQTT, the common language of street-equipment gateways (paho-mqtt, QoS 1, JSON payloads).

Topics: ``<prefix>/devices/<address>/cmd`` (to the device), ``/ack``, ``/state`` and
``/telemetry`` (from it). A command's payload carries its id; the device answers on ``/ack`` with
``{"command": id, "status": "done"|"failed", "state": {...}, "error": "..."}``.
"""

import json
import math
import threading
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from devices.drivers import Ack, DriverUnavailable, topic

# What a device may send: a JSON object of this size and nesting at most, finite numbers only.
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_DEPTH = 8
MAX_INTEGER = 2**63


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _bounded(text: str) -> int:
    if len(text) > 20 or abs(value := int(text)) > MAX_INTEGER:
        raise ValueError(f"integer out of range: {text[:20]}")
    return value


def _refuse(name: str):
    raise ValueError(f"{name} is not a number")


def _depth(data) -> int:
    """How deeply lists and objects nest in ``data`` (walked without recursion)."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                pending += [(item, depth + 1)
                            for item in (value.values() if isinstance(value, dict) else value)]
    return deepest


def decode(payload: bytes) -> dict:
    """A device's message as a JSON object, or ValueError saying why it cannot be one.

    Whatever arrives on a topic (any bytes, any size, any nesting) ends here as a dict or as
    ValueError, never as another exception that would stop a client's network loop.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes (at most {MAX_PAYLOAD_BYTES})")
    try:
        data = json.loads(payload, parse_float=_finite, parse_int=_bounded,
                          parse_constant=_refuse)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON object is expected, not {type(data).__name__}")
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return data


def connection(url: str) -> dict:
    """Host, port and credentials from ``mqtt://user:password@host:1883``."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise DriverUnavailable(f"Adresse MQTT invalide : {url!r}")
    return {"host": parts.hostname, "port": parts.port or 1883,
            "username": parts.username, "password": parts.password}


def client(url: str, name: str) -> mqtt.Client:
    """A connected client (its network loop not started), or DriverUnavailable."""
    params = connection(url)
    mq = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                     client_id=f"{name}-{uuid.uuid4().hex[:8]}", clean_session=True)
    if params["username"]:
        mq.username_pw_set(params["username"], params["password"])
    try:
        mq.connect(params["host"], params["port"], keepalive=30)
    except OSError as exc:
        raise DriverUnavailable(f"Courtier MQTT injoignable ({params['host']}:"
                                f"{params['port']}) : {exc}") from None
    return mq


class MqttDriver:
    def __init__(self, *, url: str, prefix: str):
        self.url = url
        self.prefix = prefix

    def deliver(self, address: str, kind: str, message: dict, timeout: float,
                state: dict | None = None) -> Ack | None:
        if not self.url:
            raise DriverUnavailable("Aucun courtier MQTT n'est configuré (MQTT_URL).")
        answered = threading.Event()
        subscribed = threading.Event()
        answer: dict = {}
        ack_topic = topic(self.prefix, address, "ack")

        def on_subscribe(mq, userdata, mid, reason_codes, properties):
            subscribed.set()

        def on_message(mq, userdata, msg):
            try:
                data = decode(msg.payload)
            except ValueError:
                return
            if data.get("command") == message["command"]:
                answer.update(data)
                answered.set()

        mq = client(self.url, "controlroom-cmd")
        mq.on_subscribe = on_subscribe
        mq.on_message = on_message
        mq.loop_start()
        try:
            mq.subscribe(ack_topic, qos=1)
            if not subscribed.wait(timeout):
                raise DriverUnavailable("Le courtier MQTT ne répond pas.")
            info = mq.publish(topic(self.prefix, address, "cmd"), json.dumps(message), qos=1)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:
                raise DriverUnavailable(f"Envoi MQTT impossible : {exc}") from None
            if not info.is_published():
                raise DriverUnavailable("Le courtier MQTT n'a pas accusé l'envoi.")
            if not answered.wait(timeout):
                return None
            return Ack.from_message(answer)
        finally:
            mq.loop_stop()
            mq.disconnect()
