"""The embedded default: equipment simulated in the worker's process, with realistic delays and
a configurable rate of commands that get no answer."""

import random
import threading
import time

from devices import equipment
from devices.drivers import Ack


class SimulatorDriver:
    def __init__(self, *, delay=(0.05, 0.4), failure_rate=0.0, rng=None):
        self.delay = delay
        self.failure_rate = failure_rate
        self.rng = rng or random.Random()
        self.states: dict[str, dict] = {}
        self.done: dict[str, Ack] = {}  # command id → answer: a second delivery acts once
        self.lock = threading.Lock()

    def deliver(self, address: str, kind: str, message: dict, timeout: float,
                state: dict | None = None) -> Ack | None:
        wait = self.rng.uniform(*self.delay)
        if self.rng.random() < self.failure_rate or wait > timeout:
            time.sleep(min(wait, timeout))
            return None
        time.sleep(wait)
        with self.lock:
            known = self.done.get(message["command"])
            if known:
                return known
            current = self.states.get(address, state or {})
            new = equipment.apply(kind, current, message["action"], message["params"])
            self.states[address] = new
            ack = Ack(command=message["command"], status="done", state=new)
            self.done[message["command"]] = ack
            return ack
