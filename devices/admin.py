from django.contrib import admin
from django.db import models

from controlroom.admin import JournaledAdmin, ReadOnlyMixin, SectorFromPointAdmin
from devices.models import (
    AlertRecipient,
    Command,
    Device,
    PopulationAlert,
    SoundEvent,
    SoundSensor,
    TelemetryRule,
)
from devices.services import sound


@admin.register(Device)
class DeviceAdmin(SectorFromPointAdmin):
    list_display = ("name", "code", "kind", "sector", "driver", "address", "online",
                    "last_seen_at", "active")
    list_filter = ("kind", "driver", "online", "active", "sector")
    search_fields = ("name", "code", "address")
    readonly_fields = ("state", "last_seen_at", "online")
    exclude = ("h3",)

    def has_delete_permission(self, request, obj=None):
        return False  # commands refer to devices: take them out of service instead


@admin.register(Command)
class CommandAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Commands are sent from the console and the API, where the two-person rule applies."""

    list_display = ("requested_at", "device", "action", "status", "critical", "attempts",
                    "requested_by", "approved_by")
    list_filter = ("status", "critical", "device__kind")
    date_hierarchy = "requested_at"


@admin.register(TelemetryRule)
class TelemetryRuleAdmin(JournaledAdmin):
    list_display = ("name", "metric", "comparison", "threshold", "aggregation", "window_seconds",
                    "duration_seconds", "time_start", "time_end", "category", "active")
    list_filter = ("active", "metric", "category")
    filter_horizontal = ("sectors",)


@admin.register(AlertRecipient)
class AlertRecipientAdmin(JournaledAdmin):
    list_display = ("name", "email", "webhook_url", "active")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ("active",)


@admin.register(PopulationAlert)
class PopulationAlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Drafted and issued from the console and the API, where a supervisor issues them."""

    list_display = ("created_at", "msg_type", "headline", "severity", "status", "identifier",
                    "sent")
    list_filter = ("status", "msg_type", "severity")


@admin.register(SoundSensor)
class SoundSensorAdmin(JournaledAdmin):
    """Sound analysis settings of a sound sensor; switching it on or off and changing its hours
    are journaled, and shown on the public register."""

    list_display = ("device", "source", "purpose", "enabled", "listen_start", "listen_end",
                    "last_audio_at", "rejected_frames", "last_error")
    list_filter = ("enabled", "source")
    search_fields = ("device__name", "device__code", "purpose")
    readonly_fields = ("last_audio_at", "rejected_frames", "last_error", "failures", "retry_at")
    autocomplete_fields = ("device",)

    def save_model(self, request, obj, form, change):
        sound.sensor_save(sensor=obj, by=request.user, created=not change)


@admin.register(SoundEvent)
class SoundEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """What the sensors detected (type, confidence, levels), never audio."""

    list_display = ("started_at", "sensor", "kind", "confidence", "peak_db", "laeq_db", "alert",
                    "location")
    list_filter = ("kind",)
    date_hierarchy = "started_at"
