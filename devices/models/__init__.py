"""Street devices and their commands, telemetry and its rules, population alerts, sound
sensors."""

from devices.models.devices import KIND_CHOICES, Command, CommandGroup, Device
from devices.models.population import AlertRecipient, PopulationAlert
from devices.models.sound import SoundEvent, SoundLocation, SoundSensor
from devices.models.telemetry import (
    TelemetryBucket,
    TelemetryReading,
    TelemetryRule,
    TelemetryRuleState,
)

__all__ = [
    "KIND_CHOICES",
    "AlertRecipient",
    "Command",
    "CommandGroup",
    "Device",
    "PopulationAlert",
    "SoundEvent",
    "SoundLocation",
    "SoundSensor",
    "TelemetryBucket",
    "TelemetryReading",
    "TelemetryRule",
    "TelemetryRuleState",
]
