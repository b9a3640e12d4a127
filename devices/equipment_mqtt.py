"""The equipment side over MQTT: a gateway's devices answering commands and reporting.

``EquipmentSimulator`` is what ``manage.py simulate_devices`` runs for demos, and what the tests
run against the real broker: it acknowledges each command once per command id (a duplicate
delivery is answered again but acted on once), publishes each device's state, and sends periodic
telemetry for sensors. ``DeviceGateway`` is the control room's listener for state and telemetry.
No Django import here.
"""

import json
import logging
import random
import threading
import time
from datetime import datetime

from devices import equipment
from devices.drivers import DriverUnavailable, topic
from devices.drivers.mqtt import client, decode

logger = logging.getLogger(__name__)


class EquipmentSimulator:
    def __init__(self, *, url: str, prefix: str, devices: dict[str, str],
                 states: dict[str, dict] | None = None, delay=(0.05, 0.3),
                 failure_rate: float = 0.0, telemetry_seconds: float = 10.0, rng=None):
        self.url, self.prefix = url, prefix
        self.devices = dict(devices)  # address → kind
        self.states = {address: dict((states or {}).get(address, {})) for address in devices}
        self.delay, self.failure_rate = delay, failure_rate
        self.telemetry_seconds = telemetry_seconds
        self.rng = rng or random.Random()
        self.answers: dict[str, dict] = {}  # command id → the ack sent
        self.applied: list[tuple[str, str]] = []  # (address, command id), once each
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.mq = None
        self.ticker = None

    def start(self) -> "EquipmentSimulator":
        ready = threading.Event()
        self.mq = client(self.url, "equipment-simulator")
        self.mq.on_message = self._on_message
        self.mq.on_subscribe = lambda *args: ready.set()
        self.mq.loop_start()
        self.mq.subscribe(topic(self.prefix, "+", "cmd"), qos=1)
        if not ready.wait(5):
            raise RuntimeError("The MQTT broker did not confirm the subscription.")
        for address in self.devices:
            self._publish_state(address)
        if self.telemetry_seconds:
            self.ticker = threading.Thread(target=self._tick, daemon=True)
            self.ticker.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.mq is not None:
            self.mq.loop_stop()
            self.mq.disconnect()

    def _on_message(self, mq, userdata, msg):
        address = msg.topic.split("/")[-2]
        if address not in self.devices:
            return
        try:
            command = decode(msg.payload)
            command_id = str(command["command"])
        except (ValueError, KeyError):
            return
        # Answer off the network thread, after the device's own delay.
        threading.Thread(target=self._execute, args=(address, command_id, command),
                         daemon=True).start()

    def _execute(self, address: str, command_id: str, command: dict):
        time.sleep(self.rng.uniform(*self.delay))
        with self.lock:
            answer = self.answers.get(command_id)
            if answer is None:
                if self.rng.random() < self.failure_rate:
                    return  # lost: no answer at all
                try:
                    state = equipment.apply(self.devices[address], self.states[address],
                                            command.get("action", ""), command.get("params") or {})
                    answer = {"command": command_id, "status": "done", "state": state}
                    self.states[address] = state
                except (KeyError, TypeError, ValueError) as exc:
                    answer = {"command": command_id, "status": "failed", "error": str(exc)}
                self.answers[command_id] = answer
                self.applied.append((address, command_id))
        self.mq.publish(topic(self.prefix, address, "ack"), json.dumps(answer), qos=1)
        self._publish_state(address)

    def _publish_state(self, address: str):
        self.mq.publish(topic(self.prefix, address, "state"),
                        json.dumps({"state": self.states[address]}), qos=1)

    def _tick(self):
        while not self.stopping.wait(self.telemetry_seconds):
            now = datetime.now().astimezone()
            for address, kind in self.devices.items():
                values = equipment.reading(kind, self.rng, hour=now.hour)
                if values:
                    self.mq.publish(topic(self.prefix, address, "telemetry"), json.dumps(
                        {"at": now.isoformat(), "values": values}), qos=1)
                else:
                    self._publish_state(address)


class DeviceGateway:
    """Listens to every device's state and telemetry and hands them to ``on_report``.

    No frame can stop it: a payload that is not a sensible JSON object is counted in
    ``rejected`` and logged, and an exception of ``on_report`` in ``failed``. Its network loop
    runs on a thread of its own, which re-subscribes on every reconnection; a watchdog starts a
    new client if that thread ever dies (counted in ``restarts``).
    """

    def __init__(self, *, url: str, prefix: str, on_report, watch_seconds: float = 2.0):
        self.url, self.prefix, self.on_report = url, prefix, on_report
        self.watch_seconds = watch_seconds
        self.received = self.rejected = self.failed = self.restarts = 0
        self.mq = None
        self.loop = None
        self.subscribed = threading.Event()
        self.stopping = threading.Event()
        self.watchdog = None

    def start(self) -> "DeviceGateway":
        self._connect()
        if not self.subscribed.wait(5):
            self.stop()
            raise DriverUnavailable("Le courtier MQTT n'a pas confirmé l'abonnement.")
        self.watchdog = threading.Thread(target=self._watch, name="mqtt-gateway-watchdog",
                                         daemon=True)
        self.watchdog.start()
        return self

    def alive(self) -> bool:
        return self.loop is not None and self.loop.is_alive()

    def stop(self):
        self.stopping.set()
        if self.watchdog is not None:
            self.watchdog.join(10)  # so that it starts no client after this
        if self.mq is not None:
            self.mq.disconnect()
        if self.loop is not None:
            self.loop.join(5)

    def _connect(self):
        self.subscribed.clear()
        mq = client(self.url, "controlroom-gateway")
        mq.suppress_exceptions = True  # a second guard: paho logs a callback's error, goes on
        mq.on_connect = self._on_connect
        mq.on_subscribe = lambda *args: self.subscribed.set()
        mq.on_message = self._on_message
        self.mq = mq
        self.loop = threading.Thread(target=mq.loop_forever, kwargs={"retry_first_connection": True},
                                     name="mqtt-gateway", daemon=True)
        self.loop.start()

    def _watch(self):
        while not self.stopping.wait(self.watch_seconds):
            if self.alive():
                continue
            logger.error("The MQTT gateway's network loop stopped: connecting again")
            try:
                self.mq.disconnect()  # the dead client's connection, if it still has one
            except Exception:  # noqa: BLE001 - it is being replaced whatever its state
                pass
            try:
                self._connect()
                self.restarts += 1
            except DriverUnavailable as exc:
                logger.error("The MQTT gateway could not reconnect: %s", exc)

    def _on_connect(self, mq, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("The MQTT broker refused the gateway: %s", reason_code)
            return
        mq.subscribe([(topic(self.prefix, "+", "state"), 1),
                      (topic(self.prefix, "+", "telemetry"), 1)])

    def _on_message(self, mq, userdata, msg):
        parts = msg.topic.split("/")
        try:
            data = decode(msg.payload)
        except ValueError as exc:
            self.rejected += 1
            logger.warning("Rejected MQTT frame on %s (%d rejected so far): %s",
                           msg.topic[:200], self.rejected, str(exc)[:200])
            return
        self.received += 1
        try:
            self.on_report(parts[-2], parts[-1], data)
        except Exception:  # noqa: BLE001 - one bad report must not stop the listener
            self.failed += 1
            logger.exception("MQTT report on %s could not be handled", msg.topic[:200])
