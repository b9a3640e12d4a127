"""Drivers carry a command to a device and bring its answer back, behind one interface.

``deliver(address, kind, message, timeout)`` returns the device's ``Ack``, ``None`` when it did not
answer in time, or raises ``DriverUnavailable`` when the way to the device is down (a broker
outage): the caller then retries later. No Django import here.
"""

from dataclasses import dataclass, field


class DriverUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Ack:
    command: str
    status: str  # "done" or "failed"
    state: dict = field(default_factory=dict)
    error: str = ""

    @classmethod
    def from_message(cls, data: dict) -> "Ack":
        status = data.get("status")
        if status not in ("done", "failed"):
            status = "failed"
        return cls(command=str(data.get("command", "")), status=status,
                   state=data.get("state") if isinstance(data.get("state"), dict) else {},
                   error=str(data.get("error", ""))[:300])


def topic(prefix: str, address: str, channel: str) -> str:
    """``<prefix>/devices/<address>/<channel>``, channel one of cmd, ack, state, telemetry."""
    return f"{prefix}/devices/{address}/{channel}"
