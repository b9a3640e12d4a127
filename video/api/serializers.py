from django.urls import reverse
from rest_framework import serializers

from video.catalogue import rule_labels
from video.models import Camera, Screen, ScreenRouting, VideoEvent, ZoneStatistic


class CameraSerializer(serializers.ModelSerializer):
    """A camera as staff see it: never its stream address."""

    sector_name = serializers.CharField(source="sector.name", default=None,
                                        allow_null=True, read_only=True)
    analytics = serializers.SerializerMethodField()

    class Meta:
        model = Camera
        fields = ["id", "code", "name", "lat", "lon", "sector", "sector_name", "target_fps",
                  "analytics", "sensitive", "enabled", "online", "last_frame_at",
                  "measured_fps"]
        read_only_fields = fields

    def get_analytics(self, camera) -> list[dict]:
        labels = rule_labels()
        return [{"rule": name, "label": labels.get(name, name)}
                for name in sorted(camera.analytics or {})]


class NearCameraSerializer(CameraSerializer):
    distance_m = serializers.IntegerField(read_only=True)

    class Meta(CameraSerializer.Meta):
        fields = [*CameraSerializer.Meta.fields, "distance_m"]
        read_only_fields = fields


class LiveSerializer(serializers.Serializer):
    frame_url = serializers.CharField()
    refresh_ms = serializers.IntegerField()


class VideoEventSerializer(serializers.ModelSerializer):
    camera_code = serializers.CharField(source="camera.code", read_only=True)
    snapshot_url = serializers.SerializerMethodField()

    class Meta:
        model = VideoEvent
        fields = ["id", "camera", "camera_code", "rule", "zone", "confidence", "occurred_at",
                  "details", "alert", "snapshot", "snapshot_url"]
        read_only_fields = fields

    def get_snapshot_url(self, event) -> str | None:
        return reverse("video:snapshot", args=[event.snapshot_id]) if event.snapshot_id else None


class StatisticSerializer(serializers.ModelSerializer):
    camera_code = serializers.CharField(source="camera.code", read_only=True)
    people_mean = serializers.FloatField(read_only=True)

    class Meta:
        model = ZoneStatistic
        fields = ["camera", "camera_code", "zone", "period_start", "samples", "people_mean",
                  "people_max", "crossings_forward", "crossings_backward"]
        read_only_fields = fields


class UnblurSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ScreenSerializer(serializers.ModelSerializer):
    camera_name = serializers.CharField(source="camera.name", default=None,
                                        allow_null=True, read_only=True)
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Screen
        fields = ["id", "code", "name", "place", "camera", "camera_name", "routed_at", "page_url"]
        read_only_fields = fields

    def get_page_url(self, screen) -> str:
        return reverse("video:screen", args=[screen.code])


class RouteSerializer(serializers.Serializer):
    camera = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class RoutingSerializer(serializers.ModelSerializer):
    screen_name = serializers.CharField(source="screen.name", read_only=True)
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None,
                                       allow_null=True, read_only=True)

    class Meta:
        model = ScreenRouting
        fields = ["id", "screen", "screen_name", "camera", "camera_name", "status", "reason",
                  "requested_by", "requested_at", "decided_by", "decided_at", "decision_note"]
        read_only_fields = fields


class RouteResultSerializer(serializers.Serializer):
    screen = ScreenSerializer(required=False)
    routing = RoutingSerializer(required=False)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class StepCameraSerializer(serializers.Serializer):
    camera = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
