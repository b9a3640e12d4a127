"""Telemetry: readings stored compactly, threshold rules evaluated as they arrive.

Raw readings are kept ``TELEMETRY_RAW_RETENTION_HOURS``; ``telemetry_roll_up`` keeps 15-minute
aggregates (count, mean, min, max, Leq) for good. A rule that starts to hold for a device raises
one alert; while it keeps holding nothing more is raised; once it stops, the next episode raises
a new alert.
"""

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from controlroom import journal
from devices import services
from devices import telemetry_rules as engine
from devices.models import (
    Device,
    TelemetryBucket,
    TelemetryReading,
    TelemetryRule,
    TelemetryRuleState,
)
from incidents import selectors as incident_selectors
from incidents.services import alerts as alert_services

BUCKET_SECONDS = 900
ACTOR = "system:telemetry"


def telemetry_record(*, device: Device, values: dict, at: datetime | None = None) -> list[str]:
    """Store the readings of the metrics this kind of device reports; evaluate its rules."""
    now = timezone.now()
    if at is None or timezone.is_naive(at) or at > now + timedelta(minutes=5):
        at = now  # a device's clock is not trusted beyond a few minutes ahead
    metrics = set(device.spec.metrics)
    readings = []
    for metric, value in (values or {}).items():
        if metric not in metrics or isinstance(value, bool):
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            readings.append(TelemetryReading(device=device, metric=metric, value=value, at=at))
    TelemetryReading.objects.bulk_create(readings)
    services.device_report(device=device, at=at)
    fired = []
    for metric in {r.metric for r in readings}:
        fired += rules_evaluate(device=device, metric=metric, now=at)
    return fired


def device_message(*, address: str, channel: str, data: dict) -> None:
    """A state or telemetry message a gateway received from a device (unknown ones ignored)."""
    device = Device.objects.filter(address=address, active=True).first()
    if device is None:
        return
    if channel == "state" and isinstance(data.get("state"), dict):
        services.device_report(device=device, state=data["state"])
    elif channel == "telemetry" and isinstance(data.get("values"), dict):
        try:
            at = parse_datetime(str(data.get("at", ""))) if data.get("at") else None
        except ValueError:  # well formed but impossible, e.g. the 31st of June
            at = None
        telemetry_record(device=device, values=data["values"], at=at)


def _rules_for(device: Device, metric: str):
    return (
        TelemetryRule.objects.filter(active=True, metric=metric)
        .filter(Q(sectors=None) | Q(sectors=device.sector_id))
        .distinct()
    )


def rules_evaluate(*, device: Device, metric: str, now: datetime) -> list[str]:
    """Evaluate the device's rules on ``metric``; returns what changed ("raised", "cleared")."""
    tz = ZoneInfo(settings.TIME_ZONE)
    changes = []
    for rule in _rules_for(device, metric):
        spec = rule.spec()
        since = now - timedelta(seconds=spec.window_seconds + spec.duration_seconds + 60)
        readings = list(TelemetryReading.objects.filter(
            device=device, metric=metric, at__gt=since, at__lte=now,
        ).values_list("at", "value"))
        result = engine.evaluate(spec, readings, now, tz)
        with transaction.atomic():
            state, _ = TelemetryRuleState.objects.select_for_update().get_or_create(
                rule=rule, device=device)
            if result.triggered and not state.holding:
                state.holding, state.since = True, result.held_since
                state.alert = alert_services.alert_receive(
                    by=ACTOR, source=incident_selectors.AlertSource.SENSOR, category=rule.category,
                    title=f"{rule.name} — {device.name}", lat=device.lat, lon=device.lon,
                    severity=rule.severity, occurred_at=result.held_since or now,
                    evidence={"device": device.code, "rule": rule.name, "metric": metric,
                              "value": round(result.value, 1), "threshold": rule.threshold,
                              "aggregation": rule.aggregation, "samples": result.samples,
                              "since": (result.held_since or now).isoformat(),
                              "explanation": result.reason},
                    dedup_key=f"rule:{rule.pk}:{device.code}",
                ).alert
                state.save()
                changes.append("raised")
            elif state.holding and not result.triggered:
                state.holding, state.since = False, None
                state.save()
                journal.record(type="telemetry_rule.cleared", subject=device, actor=ACTOR,
                               payload={"device": device.pk, "rule": rule.pk, "metric": metric,
                                        "value": result.value, "alert": state.alert_id})
                changes.append("cleared")
    return changes


def telemetry_roll_up(*, now: datetime | None = None) -> int:
    """Aggregate finished 15-minute periods into buckets, then drop raw readings past retention."""
    now = now or timezone.now()
    done_until = datetime.fromtimestamp(
        (now.timestamp() // BUCKET_SECONDS) * BUCKET_SECONDS, tz=now.tzinfo)
    written = 0
    pairs = TelemetryReading.objects.filter(at__lt=done_until).values_list(
        "device_id", "metric").distinct()
    for device_id, metric in pairs:
        last = TelemetryBucket.objects.filter(device_id=device_id, metric=metric,
                                              seconds=BUCKET_SECONDS).aggregate(m=Max("start"))["m"]
        start = last + timedelta(seconds=BUCKET_SECONDS) if last else None
        readings = TelemetryReading.objects.filter(device_id=device_id, metric=metric,
                                                   at__lt=done_until)
        if start:
            readings = readings.filter(at__gte=start)
        for begin, values in engine.bucket(readings.values_list("at", "value"), BUCKET_SECONDS):
            TelemetryBucket.objects.update_or_create(
                device_id=device_id, metric=metric, seconds=BUCKET_SECONDS, start=begin,
                defaults={"count": values["count"], "mean": values["mean"],
                          "minimum": values["min"], "maximum": values["max"],
                          "leq": values["leq"] if metric.endswith("_db") else None},
            )
            written += 1
    horizon = now - timedelta(hours=settings.TELEMETRY_RAW_RETENTION_HOURS)
    TelemetryReading.objects.filter(at__lt=min(horizon, done_until)).delete()
    return written


def simulator_tick(*, now: datetime | None = None, rng=None) -> int:
    """The built-in simulator's devices give a sign of life; its sensors report a reading."""
    import random

    from devices import equipment

    now = now or timezone.now()
    rng = rng or random.Random()
    hour = timezone.localtime(now).hour
    count = 0
    # Sound sensors give signs of life only when their audio arrives.
    for device in (Device.objects.filter(active=True, driver=Device.Driver.SIMULATOR)
                   .exclude(kind="sound_sensor")):
        values = equipment.reading(device.kind, rng, hour=hour,
                                   noise_offset_db=float(device.simulation.get("noise_offset_db", 0)))
        if values:
            telemetry_record(device=device, values=values, at=now)
        else:
            services.device_report(device=device, at=now)
        count += 1
    return count
