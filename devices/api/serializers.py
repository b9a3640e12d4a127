from django.utils.translation import gettext
from rest_framework import serializers

from controlroom.api.fields import DateTimeField
from devices import cap, capabilities
from devices.models import (
    Command,
    CommandGroup,
    Device,
    PopulationAlert,
    SoundEvent,
    SoundLocation,
    SoundSensor,
)


class DeviceSerializer(serializers.ModelSerializer):
    sector_name = serializers.CharField(source="sector.name", default=None,
                                        allow_null=True, read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = ["id", "code", "name", "kind", "lat", "lon", "sector", "sector_name", "driver",
                  "state", "online", "last_seen_at", "active", "actions"]
        read_only_fields = fields

    def get_actions(self, device) -> dict:
        return {code: {"label": gettext(action.label), "critical": action.critical,
                       "params": list(action.params)}
                for code, action in capabilities.KINDS[device.kind].actions.items()}


def _person(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user is not None else None


class CommandSerializer(serializers.ModelSerializer):
    """A command, with what a supervisor needs to decide on it: who asks, for which incident,
    what in words (the device's name, the action's label) and why."""

    device_code = serializers.CharField(source="device.code", read_only=True)
    device_name = serializers.CharField(source="device.name", read_only=True)
    device_kind = serializers.CharField(source="device.kind", read_only=True)
    action_label = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", default=None,
                                         allow_null=True, read_only=True)
    requested_by_name = serializers.SerializerMethodField()
    approved_by = serializers.CharField(source="approved_by.username", default=None,
                                        allow_null=True, read_only=True)
    decided_by_name = serializers.SerializerMethodField()
    incident_reference = serializers.CharField(source="incident.reference", default=None,
                                               allow_null=True, read_only=True)
    incident_title = serializers.CharField(source="incident.title", default=None,
                                           allow_null=True, read_only=True)

    class Meta:
        model = Command
        fields = ["id", "uid", "device", "device_code", "device_name", "device_kind", "group",
                  "incident", "incident_reference", "incident_title", "action", "action_label",
                  "params", "critical", "status", "requested_by", "requested_by_name",
                  "requested_at", "request_reason", "approved_by", "decided_by_name",
                  "decided_at", "reason", "attempts", "sent_at", "acknowledged_at",
                  "finished_at", "error"]
        read_only_fields = fields

    def get_action_label(self, command) -> str:
        action = capabilities.KINDS[command.device.kind].actions.get(command.action)
        return gettext(action.label) if action else command.action

    def get_requested_by_name(self, command) -> str | None:
        return _person(command.requested_by)

    def get_decided_by_name(self, command) -> str | None:
        return _person(command.approved_by)


class CommandCreateSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=40)
    params = serializers.DictField(required=False, default=dict)
    incident = serializers.IntegerField(required=False, allow_null=True, default=None)
    # Required of critical commands (checked by the service, which knows which are).
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class ProposalConfirmSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class GroupCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=capabilities.choices())
    action = serializers.CharField(max_length=40)
    params = serializers.DictField(required=False, default=dict)
    sector = serializers.IntegerField(required=False, allow_null=True, default=None)
    incident = serializers.IntegerField(required=False, allow_null=True, default=None)
    radius_m = serializers.FloatField(required=False, allow_null=True, default=None)
    label = serializers.CharField(max_length=200, required=False, default="")
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class GroupSerializer(serializers.ModelSerializer):
    results = serializers.SerializerMethodField()
    commands = CommandSerializer(many=True, read_only=True)

    class Meta:
        model = CommandGroup
        fields = ["id", "label", "kind", "action", "params", "incident", "requested_at",
                  "results", "commands"]
        read_only_fields = fields

    def get_results(self, group) -> dict:
        from devices.selectors import group_results

        return group_results(group)


class PopulationAlertSerializer(serializers.ModelSerializer):
    cap_url = serializers.SerializerMethodField()
    drafted_by_name = serializers.SerializerMethodField()
    incident_reference = serializers.CharField(source="incident.reference", default=None,
                                               allow_null=True, read_only=True)

    class Meta:
        model = PopulationAlert
        fields = ["id", "identifier", "msg_type", "status", "cap_status", "references",
                  "incident", "step", "event",
                  "category", "response_type", "urgency", "severity", "certainty", "headline", "description",
                  "instruction", "area_name", "sector", "polygon", "expires", "siren_pattern",
                  "created_at", "sent", "cap_url", "drafted_by_name", "incident_reference"]
        read_only_fields = fields

    def get_drafted_by_name(self, alert) -> str | None:
        return _person(alert.created_by)

    def get_cap_url(self, alert) -> str | None:
        from django.urls import reverse

        if alert.status != PopulationAlert.Status.ISSUED:
            return None
        return reverse("cap-message", args=[alert.identifier])


class PopulationAlertDraftSerializer(serializers.Serializer):
    event = serializers.CharField(max_length=120)
    category = serializers.ChoiceField(choices=cap.CATEGORIES, default="Safety")
    # CAP <responseType>; empty: derived from the sirens and the category.
    response_type = serializers.ChoiceField(choices=["", *cap.RESPONSE_TYPES], default="")
    urgency = serializers.ChoiceField(choices=cap.URGENCIES)
    severity = serializers.ChoiceField(choices=cap.SEVERITIES)
    certainty = serializers.ChoiceField(choices=cap.CERTAINTIES)
    headline = serializers.CharField(max_length=140)
    description = serializers.CharField(max_length=4000)
    instruction = serializers.CharField(max_length=4000)
    area_name = serializers.CharField(max_length=200, required=False, default="")
    sector = serializers.IntegerField(required=False, allow_null=True, default=None)
    polygon = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(),
                                                                min_length=2, max_length=2),
                                    required=False, default=list)
    expires = DateTimeField()
    siren_pattern = serializers.ChoiceField(choices=["", "alerte", "fin_alerte"], default="")
    incident = serializers.IntegerField(required=False, allow_null=True, default=None)
    step = serializers.IntegerField(required=False, allow_null=True, default=None)


class FollowUpSerializer(serializers.Serializer):
    headline = serializers.CharField(max_length=140, required=False)
    description = serializers.CharField(max_length=4000, required=False)
    instruction = serializers.CharField(max_length=4000, required=False)
    severity = serializers.ChoiceField(choices=cap.SEVERITIES, required=False)
    urgency = serializers.ChoiceField(choices=cap.URGENCIES, required=False)
    response_type = serializers.ChoiceField(choices=["", *cap.RESPONSE_TYPES], required=False)
    expires = DateTimeField(required=False)


class SoundSensorSerializer(serializers.ModelSerializer):
    """A sound sensor's settings and state; its stream address never leaves the server."""

    code = serializers.CharField(source="device.code", read_only=True)
    name = serializers.CharField(source="device.name", read_only=True)
    lat = serializers.FloatField(source="device.lat", read_only=True)
    lon = serializers.FloatField(source="device.lon", read_only=True)
    online = serializers.BooleanField(source="device.online", read_only=True)

    class Meta:
        model = SoundSensor
        fields = ["id", "device", "code", "name", "lat", "lon", "online", "source", "purpose",
                  "listen_start", "listen_end", "listen_days", "detections", "night_start",
                  "night_end", "music_threshold_db", "music_min_seconds", "enabled",
                  "last_audio_at", "rejected_frames", "last_error"]
        read_only_fields = fields


class SoundEventSerializer(serializers.ModelSerializer):
    sensor_code = serializers.CharField(source="sensor.device.code", read_only=True)

    class Meta:
        model = SoundEvent
        fields = ["id", "sensor", "sensor_code", "kind", "confidence", "started_at", "ended_at",
                  "peak_db", "laeq_db", "bands", "alert", "location"]
        read_only_fields = fields


class SoundLocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = SoundLocation
        fields = ["id", "kind", "emitted_at", "lat", "lon", "radius_m", "sensors", "rejected",
                  "residual_ms", "alert"]
        read_only_fields = fields
