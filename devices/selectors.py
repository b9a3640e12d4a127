"""Reads of the devices app, scoped by permission."""

from django.db.models import Count, Q, QuerySet

from controlroom import geo
from devices.models import (
    Command,
    CommandGroup,
    Device,
    PopulationAlert,
    SoundEvent,
    SoundLocation,
    SoundSensor,
)


def devices_visible_to(*, user) -> QuerySet[Device]:
    if not user.has_perm("devices.view_device"):
        return Device.objects.none()
    return Device.objects.select_related("sector")


def sound_sensors_visible_to(*, user) -> QuerySet[SoundSensor]:
    if not user.has_perm("devices.view_soundsensor"):
        return SoundSensor.objects.none()
    return SoundSensor.objects.select_related("device")


def sound_events_visible_to(*, user) -> QuerySet[SoundEvent]:
    if not user.has_perm("devices.view_soundevent"):
        return SoundEvent.objects.none()
    return SoundEvent.objects.select_related("sensor__device")


def sound_locations_visible_to(*, user) -> QuerySet[SoundLocation]:
    if not user.has_perm("devices.view_soundlocation"):
        return SoundLocation.objects.none()
    return SoundLocation.objects.filter(radius_m__isnull=False)


def commands_visible_to(*, user) -> QuerySet[Command]:
    if not user.has_perm("devices.view_command"):
        return Command.objects.none()
    return Command.objects.select_related("device", "requested_by", "approved_by")


def groups_visible_to(*, user) -> QuerySet[CommandGroup]:
    if not user.has_perm("devices.view_commandgroup"):
        return CommandGroup.objects.none()
    return CommandGroup.objects.all()


def group_results(group: CommandGroup) -> dict[str, int]:
    """How many of the group's commands are in each status."""
    return dict(group.commands.values_list("status").annotate(n=Count("pk")).order_by())


def devices_near(*, kind: str, lat: float, lon: float, radius_m: float) -> list[tuple[Device, float]]:
    """Active devices of ``kind`` within ``radius_m`` of a point, with their distance, nearest
    first."""
    nearby = []
    for device in Device.objects.filter(kind=kind, active=True):
        distance = geo.distance_m(lat, lon, device.lat, device.lon)
        if distance <= radius_m:
            nearby.append((device, distance))
    return sorted(nearby, key=lambda pair: pair[1])


def population_alerts_issued(*, incidents, since, until) -> QuerySet[PopulationAlert]:
    """Population alerts issued for any of ``incidents``, or sent between ``since`` and ``until``
    (test messages of the alert chain are no alert to the population)."""
    return PopulationAlert.objects.filter(
        status=PopulationAlert.Status.ISSUED, cap_status=PopulationAlert.CapStatus.ACTUAL).filter(
        Q(incident__in=incidents) | Q(sent__gte=since, sent__lte=until)
    ).distinct().order_by("sent")
