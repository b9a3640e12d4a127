"""MQTT, the common language of street-equipment gateways (paho-mqtt, QoS 1, JSON payloads).

Topics: ``<prefix>/devices/<address>/cmd`` (to the device), ``/ack``, ``/state`` and
``/telemetry`` (from it). A command's payload carries its id; the device answers on ``/ack`` with
``{"command": id, "status": "done"|"failed", "state": {...}, "error": "..."}``.
"""

import json
import threading
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from devices.drivers import Ack, DriverUnavailable, topic


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
                data = json.loads(msg.payload)
            except ValueError:
                return
            if isinstance(data, dict) and data.get("command") == message["command"]:
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
