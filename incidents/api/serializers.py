"""Serializers validate input and present output; services do the writing."""

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import serializers

from controlroom.api.fields import DateTimeField
from controlroom.located import Level
from incidents import lifecycle, selectors
from incidents.models import Alert, Category, Incident, ProcedureRun, StepRun, Unit


class CatalogueLabelField(serializers.CharField):
    """A label stored in French (a category's): in the request's language when the catalogue
    knows it, as written otherwise."""

    def to_representation(self, value):
        return gettext(super().to_representation(value))

LEVELS = Level.choices


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "label", "domain", "default_priority", "dedup_window_minutes",
                  "unit_kinds", "active"]


def _category_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.filter(active=True), **kwargs
    )


class PointMixin(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)


# --- alerts ----------------------------------------------------------------------------------------
class AlertSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_label = CatalogueLabelField(source="category.label", read_only=True)
    sector_name = serializers.CharField(source="sector.name", default=None,
                                        allow_null=True, read_only=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None,
                                            allow_null=True, read_only=True)
    dismiss_reason = serializers.ChoiceField(choices=Alert.DismissReason.choices,
                                             allow_blank=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "source", "source_system", "source_ref", "category", "category_label",
            "severity", "title", "lat", "lon", "h3", "sector", "sector_name", "occurred_at",
            "received_at", "evidence", "dedup_key", "repeat_count", "source_count", "sources",
            "last_seen_at", "status",
            "acknowledged_by", "acknowledged_at", "ack_delay_seconds", "escalated_at", "incident",
            "dismiss_reason", "dismiss_note", "exercise",
        ]
        read_only_fields = fields


class AlertCreateSerializer(PointMixin):
    source = serializers.ChoiceField(choices=Alert.Source.choices, default=Alert.Source.OPERATOR)
    source_ref = serializers.CharField(max_length=120, required=False, default="")
    category = _category_field()
    severity = serializers.ChoiceField(choices=LEVELS, default=3)
    title = serializers.CharField(max_length=200, required=False, default="")
    occurred_at = DateTimeField(required=False)
    evidence = serializers.DictField(required=False, default=dict)
    dedup_key = serializers.CharField(max_length=200, required=False, default="")


class AlertDismissSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Alert.DismissReason.choices)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class AlertAttachSerializer(serializers.Serializer):
    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.all())


class AlertOpenIncidentSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, default="")
    priority = serializers.ChoiceField(choices=LEVELS, required=False)
    category = _category_field(required=False)
    description = serializers.CharField(required=False, default="", allow_blank=True)


# --- procedures ----------------------------------------------------------------------------------
class StepSerializer(serializers.ModelSerializer):
    done_by = serializers.CharField(source="done_by.username", default=None,
                                    allow_null=True, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = StepRun
        fields = ["id", "key", "order", "kind", "instruction", "mandatory", "params",
                  "next_if_yes", "next_if_no", "deadline_at", "status", "answer", "note",
                  "done_by", "done_at", "overdue", "evidence"]
        read_only_fields = fields

    def get_overdue(self, step) -> bool:
        return (
            step.status == StepRun.Status.PENDING and step.mandatory
            and step.deadline_at is not None and step.deadline_at < timezone.now()
        )


class ProcedureRunSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ProcedureRun
        fields = ["id", "incident", "name", "status", "started_at", "finished_at", "progress",
                  "steps"]
        read_only_fields = fields

    def get_progress(self, run) -> dict:
        return selectors.run_progress(run)


class StepActionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, default="", allow_blank=True)


class StepCompleteSerializer(StepActionSerializer):
    """A dispatch step is done by engaging a unit; a step that acts, without acting, with the
    reason why not."""

    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False,
                                              allow_null=True, default=None)
    reason = serializers.CharField(max_length=1000, required=False, default="",
                                   allow_blank=True)


class StepSkipSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class StepAnswerSerializer(StepActionSerializer):
    answer = serializers.BooleanField()


# --- incidents -----------------------------------------------------------------------------------
class IncidentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_label = CatalogueLabelField(source="category.label", read_only=True)
    category_domain = serializers.CharField(source="category.domain", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    sector_name = serializers.CharField(source="sector.name", default=None,
                                        allow_null=True, read_only=True)
    agencies = serializers.SerializerMethodField()
    alerts = serializers.SerializerMethodField()
    units = serializers.SerializerMethodField()
    procedure = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id", "reference", "category", "category_label", "category_domain", "priority", "title",
            "description",
            "address", "lat", "lon", "h3", "sector", "sector_name", "status", "status_label",
            "agencies", "created_at", "updated_at", "status_changed_at", "acknowledged_at",
            "resolved_at", "closed_at", "cancel_reason", "alerts", "units", "procedure",
            "allowed_transitions", "exercise",
        ]
        read_only_fields = fields

    def get_agencies(self, incident) -> list[int]:
        return sorted(a.pk for a in incident.agencies.all())

    def get_alerts(self, incident) -> list[int]:
        return sorted(a.pk for a in incident.alerts.all())

    def get_units(self, incident) -> list[dict]:
        return [
            {"unit": a.unit_id, "call_sign": a.unit.call_sign, "kind": a.unit.kind,
             "status": a.unit.status, "assigned_at": a.assigned_at,
             "eta_seconds": a.eta_seconds, "on_scene_at": a.on_scene_at}
            for a in incident.assignments.all() if a.released_at is None
        ]

    def get_procedure(self, incident) -> dict | None:
        runs = getattr(incident, "active_runs", None)  # prefetched by the views
        run = (runs[0] if runs else None) if runs is not None else selectors.active_run(incident)
        if run is None:
            return None
        return {"run": run.pk, "name": run.name, "status": run.status,
                **selectors.run_progress(run)}

    def get_allowed_transitions(self, incident) -> list[str]:
        """What the reader may do: a transition their role cannot make is not offered."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not hasattr(user, "get_all_permissions"):
            return lifecycle.allowed_targets(incident.status)
        return lifecycle.allowed_targets(incident.status, user.get_all_permissions())


class IncidentCreateSerializer(PointMixin):
    category = _category_field()
    title = serializers.CharField(max_length=200)
    priority = serializers.ChoiceField(choices=LEVELS, required=False)
    description = serializers.CharField(required=False, default="", allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class IncidentUpdateSerializer(serializers.Serializer):
    category = _category_field(required=False)
    title = serializers.CharField(max_length=200, required=False)
    priority = serializers.ChoiceField(choices=LEVELS, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Incident.Status.choices)
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class AssignSerializer(serializers.Serializer):
    units = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True,
                                               allow_empty=False)


class ReleaseSerializer(serializers.Serializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())


# --- units ---------------------------------------------------------------------------------------
class UnitSerializer(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    incident = serializers.SerializerMethodField()

    class Meta:
        model = Unit
        fields = ["id", "call_sign", "kind", "agency", "agency_name", "status", "lat", "lon",
                  "h3", "position_at", "status_changed_at", "active", "incident"]
        read_only_fields = fields

    def get_incident(self, unit) -> int | None:
        for assignment in unit.assignments.all():
            if assignment.released_at is None:
                return assignment.incident_id
        return None


class PositionSerializer(PointMixin):
    at = DateTimeField(required=False)


class UnitStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Unit.Status.choices)


class SuggestionSerializer(serializers.Serializer):
    unit = UnitSerializer()
    distance_m = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.FloatField(allow_null=True)


class SuggestionQuerySerializer(serializers.Serializer):
    step = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class UnitSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, default="", allow_blank=True, max_length=60)


class ReplayFilterSerializer(serializers.Serializer):
    """One incident or one sector to narrow a replay to (both optional)."""

    incident = serializers.IntegerField(required=False, min_value=1)
    sector = serializers.IntegerField(required=False, min_value=1)

    def validate_sector(self, value):
        from controlroom.models import Sector

        sector = Sector.objects.filter(pk=value).first()
        if sector is None:
            raise serializers.ValidationError("Secteur inconnu.")
        return sector


class ReplayStateQuerySerializer(ReplayFilterSerializer):
    at = DateTimeField(help_text="The instant to rebuild (ISO 8601).")


class ReplayEventsQuerySerializer(ReplayFilterSerializer):
    start = DateTimeField()
    end = DateTimeField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["La fin doit suivre le début."]})
        if (attrs["end"] - attrs["start"]).total_seconds() > 7 * 86400:
            raise serializers.ValidationError({"end": ["Une période de 7 jours au plus."]})
        return attrs
