"""Thin API views for devices and their commands."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from controlroom.models import Sector
from devices import selectors
from devices.api import serializers as s
from devices.models import PopulationAlert
from devices.services import commands as command_services
from devices.services import population, proposals
from incidents import selectors as incident_selectors


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _incident(request, pk):
    if pk is None:
        return None
    incident = incident_selectors.incidents_visible_to(user=request.user).filter(pk=pk).first()
    if incident is None:
        raise Http404
    return incident


class DeviceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Street devices: their reported state; commands are posted to ``/devices/{id}/commands/``."""

    serializer_class = s.DeviceSerializer
    filterset_fields = ["kind", "sector", "online", "driver"]

    def get_queryset(self):
        return selectors.devices_visible_to(user=self.request.user).order_by("kind", "name")

    @extend_schema(request=s.CommandCreateSerializer, responses={201: s.CommandSerializer})
    @action(detail=True, methods=["post"])
    def commands(self, request, pk=None):
        device = self.get_object()
        data = _valid(s.CommandCreateSerializer, request)
        command = command_services.command_request(
            device=device, action=data["action"], params=data["params"], by=request.user,
            incident=_incident(request, data["incident"]), reason=data["reason"],
        )
        return Response(s.CommandSerializer(command).data, status=status.HTTP_201_CREATED)


class SoundSensorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Sound sensors: their purpose, hours, detections and state. Never audio."""

    serializer_class = s.SoundSensorSerializer
    filterset_fields = ["enabled", "source"]

    def get_queryset(self):
        return selectors.sound_sensors_visible_to(user=self.request.user).order_by("device__name")


class SoundEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """What the sound sensors detected: type, confidence, time and levels."""

    serializer_class = s.SoundEventSerializer
    filterset_fields = ["sensor", "kind", "alert", "location"]

    def get_queryset(self):
        return selectors.sound_events_visible_to(user=self.request.user).order_by("-started_at")


class SoundLocationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Impulses located by three sensors or more, with their uncertainty radius."""

    serializer_class = s.SoundLocationSerializer
    filterset_fields = ["kind", "alert"]

    def get_queryset(self):
        return selectors.sound_locations_visible_to(user=self.request.user).order_by(
            "-emitted_at")


class CommandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Commands and their status; critical ones are approved or rejected by a second person."""

    serializer_class = s.CommandSerializer
    filterset_fields = ["status", "device", "incident", "group", "critical"]

    def get_queryset(self):
        return (selectors.commands_visible_to(user=self.request.user)
                .select_related("device", "requested_by", "approved_by", "incident")
                .order_by("-requested_at"))

    @extend_schema(request=None, responses=s.CommandSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        command = command_services.command_approve(command=self.get_object(), by=request.user)
        return Response(s.CommandSerializer(command).data)

    @extend_schema(request=s.RejectSerializer, responses=s.CommandSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = _valid(s.RejectSerializer, request)
        command = command_services.command_reject(command=self.get_object(), by=request.user,
                                          reason=data["reason"])
        return Response(s.CommandSerializer(command).data)


class CommandGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Group commands: every device of a kind in a sector, or within a radius of an incident."""

    serializer_class = s.GroupSerializer

    def get_queryset(self):
        return selectors.groups_visible_to(user=self.request.user).prefetch_related(
            "commands__device", "commands__requested_by", "commands__approved_by",
            "commands__incident").order_by("-requested_at")

    @extend_schema(request=s.GroupCreateSerializer, responses={201: s.GroupSerializer})
    def create(self, request):
        data = _valid(s.GroupCreateSerializer, request)
        sector = None
        if data["sector"] is not None:
            sector = Sector.objects.filter(pk=data["sector"]).first()
            if sector is None:
                raise Http404
        group = command_services.command_group_request(
            kind=data["kind"], action=data["action"], params=data["params"], by=request.user,
            sector=sector, incident=_incident(request, data["incident"]),
            radius_m=data["radius_m"], label=data["label"], reason=data["reason"],
        )
        return Response(s.GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class PopulationAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Population alerts: an operator drafts, a supervisor issues; updates and cancellations
    are new messages referencing the previous one. Issued messages are public CAP 1.2."""

    serializer_class = s.PopulationAlertSerializer
    filterset_fields = ["status", "msg_type", "incident"]

    def get_queryset(self):
        if not self.request.user.has_perm("devices.view_populationalert"):
            return PopulationAlert.objects.none()
        return PopulationAlert.objects.select_related("created_by", "incident").order_by(
            "-created_at")

    def _fields(self, request, data):
        sector = data.pop("sector")
        if sector is not None:
            data["sector"] = Sector.objects.filter(pk=sector).first()
            if data["sector"] is None:
                raise Http404
        data["incident"] = _incident(request, data.pop("incident"))
        step = data.pop("step")
        if step is not None:
            data["step"] = _step(request, step)
        return data

    @extend_schema(request=s.PopulationAlertDraftSerializer,
                   responses={201: s.PopulationAlertSerializer})
    def create(self, request):
        data = self._fields(request, dict(_valid(s.PopulationAlertDraftSerializer, request)))
        alert = population.population_alert_draft(by=request.user, **data)
        return Response(s.PopulationAlertSerializer(alert).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.PopulationAlertSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        alert = population.population_alert_issue(alert=self.get_object(), by=request.user)
        return Response(s.PopulationAlertSerializer(alert).data)

    @extend_schema(request=s.FollowUpSerializer, responses={201: s.PopulationAlertSerializer})
    @action(detail=True, methods=["post"], url_path="update")
    def update_message(self, request, pk=None):
        changes = _valid(s.FollowUpSerializer, request)
        alert = population.population_alert_follow_up(
            original=self.get_object(), by=request.user,
            msg_type=PopulationAlert.MsgType.UPDATE, **changes)
        return Response(s.PopulationAlertSerializer(alert).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: s.PopulationAlertSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        alert = population.population_alert_follow_up(
            original=self.get_object(), by=request.user, msg_type=PopulationAlert.MsgType.CANCEL)
        return Response(s.PopulationAlertSerializer(alert).data, status=status.HTTP_201_CREATED)


def _step(request, step_id):
    step = incident_selectors.step_run_find(step_id=step_id)
    visible = incident_selectors.incidents_visible_to(user=request.user)
    if step is None or not visible.filter(pk=step.run.incident_id).exists():
        raise Http404
    return step


class StepProposalView(APIView):
    """The command a "device command" procedure step proposes on the devices near the
    incident (GET), and its confirmation (POST): the group command is sent, the step done."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, step_id):
        return Response(proposals.step_proposal(step=_step(request, step_id)).as_dict())

    @extend_schema(request=s.ProposalConfirmSerializer, responses={201: s.GroupSerializer})
    def post(self, request, step_id):
        data = _valid(s.ProposalConfirmSerializer, request)
        group = proposals.step_proposal_confirm(step=_step(request, step_id), by=request.user,
                                                reason=data["reason"])
        return Response(s.GroupSerializer(group).data, status=status.HTTP_201_CREATED)
