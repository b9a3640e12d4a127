"""Thin API views: parse, call one service or selector, present."""

import gzip
import json

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from controlroom import journal, layers
from controlroom.api.serializers import EventSerializer
from incidents import replay, selectors
from incidents.api import serializers as s
from incidents.api.authentication import (
    PartnerRateThrottle,
    PartnerTokenAuthentication,
    partner_of,
)
from incidents.filters import AlertFilter, IncidentFilter, UnitFilter
from incidents.models import Assignment, Category, ProcedureRun, StepRun
from incidents.services import alerts as alert_services
from incidents.services import incidents as incident_services
from incidents.services import procedures as procedure_services
from incidents.services import units as unit_services


def _valid(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _valid_query(serializer_class, request):
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The incident taxonomy."""

    serializer_class = s.CategorySerializer
    lookup_field = "code"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Category.objects.all()


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The alert inbox. Partner systems post alerts with their token (idempotent on
    ``source_ref``); operators acknowledge, attach, open an incident from, or dismiss them."""

    serializer_class = s.AlertSerializer
    filterset_class = AlertFilter
    authentication_classes = [PartnerTokenAuthentication, SessionAuthentication]

    def get_queryset(self):
        return selectors.alerts_visible_to(user=self.request.user).order_by("-received_at")

    def get_throttles(self):
        return [PartnerRateThrottle()] if self.action == "create" else super().get_throttles()

    @extend_schema(request=s.AlertCreateSerializer, responses={201: s.AlertSerializer,
                                                               200: s.AlertSerializer})
    def create(self, request):
        data = _valid(s.AlertCreateSerializer, request)
        received = alert_services.alert_receive(by=partner_of(request) or request.user, **data)
        body = s.AlertSerializer(received.alert).data
        return Response(body, status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK)

    @extend_schema(request=None, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = alert_services.alert_acknowledge(alert=self.get_object(), by=request.user)
        return Response(s.AlertSerializer(alert).data)

    @extend_schema(request=s.AlertDismissSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        alert = self.get_object()
        data = _valid(s.AlertDismissSerializer, request)
        alert = alert_services.alert_dismiss(alert=alert, by=request.user, **data)
        return Response(s.AlertSerializer(alert).data)

    @extend_schema(request=s.AlertAttachSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def attach(self, request, pk=None):
        alert = self.get_object()
        data = _valid(s.AlertAttachSerializer, request)
        alert = alert_services.alert_attach(alert=alert, incident=data["incident"], by=request.user)
        return Response(s.AlertSerializer(alert).data)

    @extend_schema(request=s.AlertOpenIncidentSerializer, responses={201: s.IncidentSerializer})
    @action(detail=True, methods=["post"], url_path="open-incident")
    def open_incident(self, request, pk=None):
        alert = self.get_object()
        data = _valid(s.AlertOpenIncidentSerializer, request)
        incident = alert_services.alert_open_incident(alert=alert, by=request.user, **data)
        return Response(s.IncidentSerializer(incident, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


def _incidents_queryset(user):
    return selectors.incidents_visible_to(user=user).prefetch_related(
        "agencies", "alerts",
        Prefetch("assignments", queryset=Assignment.objects.select_related("unit")),
        Prefetch(
            "procedure_runs",
            queryset=ProcedureRun.objects.filter(status=ProcedureRun.Status.ACTIVE)
            .prefetch_related("steps"),
            to_attr="active_runs",
        ),
    )


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents, their life cycle, notes, timeline and dispatch."""

    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilter

    def get_queryset(self):
        return _incidents_queryset(self.request.user).order_by("-created_at")

    def _present(self, incident, code=status.HTTP_200_OK):
        incident = _incidents_queryset(self.request.user).get(pk=incident.pk)
        return Response(s.IncidentSerializer(incident, context={"request": self.request}).data,
                        status=code)

    @extend_schema(request=s.IncidentCreateSerializer, responses={201: s.IncidentSerializer})
    def create(self, request):
        data = _valid(s.IncidentCreateSerializer, request)
        incident = incident_services.incident_create(by=request.user, **data)
        return self._present(incident, status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentUpdateSerializer, responses=s.IncidentSerializer)
    def partial_update(self, request, pk=None):
        incident = self.get_object()
        data = _valid(s.IncidentUpdateSerializer, request)
        incident = incident_services.incident_update(incident=incident, by=request.user, **data)
        return self._present(incident)

    @extend_schema(request=s.TransitionSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        incident = self.get_object()
        data = _valid(s.TransitionSerializer, request)
        incident = incident_services.incident_transition(
            incident=incident, to=data["to"], reason=data["reason"], by=request.user
        )
        return self._present(incident)

    @extend_schema(request=s.NoteSerializer, responses={201: EventSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        incident = self.get_object()
        data = _valid(s.NoteSerializer, request)
        event = incident_services.incident_note_add(incident=incident, by=request.user, **data)
        return Response(journal.live_message(event), status=status.HTTP_201_CREATED)

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, pk=None):
        incident = self.get_object()
        events = selectors.incident_timeline(incident=incident, user=request.user)[:2000]
        return Response([journal.live_message(event) for event in events])

    @extend_schema(parameters=[s.SuggestionQuerySerializer],
                   responses=s.SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def suggestions(self, request, pk=None):
        """The nearest available units; while a dispatch step naming a unit kind is pending
        (``step``, or the first), of that kind only."""
        incident = self.get_object()
        if not request.user.has_perm("incidents.dispatch_unit"):
            raise PermissionDenied("Vous n'avez pas le droit d'engager une unité.")
        query = _valid_query(s.SuggestionQuerySerializer, request)
        step = None
        if "step" in query:
            step = selectors.dispatch_step_pending(incident, step_id=query["step"])
            if step is None:
                raise Http404
        found = selectors.incident_suggestions(incident=incident, step=step)
        return Response(s.SuggestionSerializer(found, many=True).data)

    @extend_schema(parameters=[s.UnitSearchQuerySerializer],
                   responses=s.SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, url_path="available-units")
    def available_units(self, request, pk=None):
        """Any available unit, searched by call sign, kind or agency (``q``), nearest first."""
        incident = self.get_object()
        if not request.user.has_perm("incidents.dispatch_unit"):
            raise PermissionDenied("Vous n'avez pas le droit d'engager une unité.")
        query = _valid_query(s.UnitSearchQuerySerializer, request)
        found = selectors.units_available_search(incident=incident, query=query["q"])
        return Response(s.SuggestionSerializer(found, many=True).data)

    @extend_schema(request=s.AssignSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        incident = self.get_object()
        data = _valid(s.AssignSerializer, request)
        unit_services.units_assign(incident=incident, units=data["units"], by=request.user)
        return self._present(incident)

    @extend_schema(request=s.ReleaseSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        incident = self.get_object()
        data = _valid(s.ReleaseSerializer, request)
        unit_services.unit_release(incident=incident, unit=data["unit"], by=request.user)
        return self._present(incident)

    @extend_schema(responses=s.ProcedureRunSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def procedures(self, request, pk=None):
        incident = self.get_object()
        runs = incident.procedure_runs.prefetch_related("steps").order_by("-started_at")
        return Response(s.ProcedureRunSerializer(runs, many=True).data)


class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Field units. Terminals and AVL feeds report positions; units report their status."""

    serializer_class = s.UnitSerializer
    filterset_class = UnitFilter
    authentication_classes = [PartnerTokenAuthentication, SessionAuthentication]

    def get_queryset(self):
        user = self.request.user
        partner = partner_of(self.request)
        units = (
            selectors.units_visible_to(user=user) if partner is None
            else selectors.units_of_partner(partner=partner)
        )
        return units.prefetch_related("assignments").order_by("call_sign")

    @extend_schema(request=s.PositionSerializer, responses=s.UnitSerializer)
    @action(detail=True, methods=["post"], throttle_classes=[PartnerRateThrottle])
    def position(self, request, pk=None):
        unit = self.get_object()
        data = _valid(s.PositionSerializer, request)
        unit = unit_services.unit_position_report(
            unit=unit, by=partner_of(request) or request.user, **data
        )
        return Response(s.UnitSerializer(unit).data)

    @extend_schema(request=s.UnitStatusSerializer, responses=s.UnitSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        unit = self.get_object()
        data = _valid(s.UnitStatusSerializer, request)
        unit = unit_services.unit_status_set(
            unit=unit, status=data["status"], by=partner_of(request) or request.user
        )
        return Response(s.UnitSerializer(unit).data)


def _step_for(request, pk) -> StepRun:
    step = get_object_or_404(StepRun.objects.select_related("run__incident"), pk=pk)
    visible = selectors.incidents_visible_to(user=request.user)
    if not visible.filter(pk=step.run.incident_id).exists():
        raise Http404
    return step


class ProcedureRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Procedure runs of the incidents the user may see, with their steps."""

    serializer_class = s.ProcedureRunSerializer
    filterset_fields = ["incident", "status"]

    def get_queryset(self):
        visible = selectors.incidents_visible_to(user=self.request.user)
        return ProcedureRun.objects.filter(incident__in=visible).prefetch_related("steps")


class StepViewSet(viewsets.GenericViewSet):
    """Acting on one step of a running procedure."""

    serializer_class = s.StepSerializer
    queryset = StepRun.objects.none()

    def _act(self, request, pk, serializer_class, service):
        """Parse the body, act on the visible step through ``service``, present the step."""
        step = _step_for(request, pk)
        service(step=step, by=request.user, **_valid(serializer_class, request))
        step.refresh_from_db()
        return Response(s.StepSerializer(step).data)

    @extend_schema(request=s.StepCompleteSerializer, responses=s.StepSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._act(request, pk, s.StepCompleteSerializer, procedure_services.step_complete)

    @extend_schema(request=s.StepSkipSerializer, responses=s.StepSerializer)
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        return self._act(request, pk, s.StepSkipSerializer, procedure_services.step_skip)

    @extend_schema(request=s.StepAnswerSerializer, responses=s.StepSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        return self._act(request, pk, s.StepAnswerSerializer, procedure_services.step_answer)


class LayerView(APIView):
    """A map layer as a GeoJSON FeatureCollection: ``incidents``, ``units`` or ``alerts``."""

    @extend_schema(responses={(200, "application/geo+json"): OpenApiTypes.OBJECT})
    def get(self, request, name):
        build = layers.LAYERS.get(name)
        if build is None:
            raise Http404
        # Read the head first: the layer then reflects at least every event up to it, and a
        # console applies only the live events after it.
        seq = journal.head_seq()
        body = json.dumps(build(user=request.user), separators=(",", ":"), ensure_ascii=False)
        body = body.encode("utf-8")
        # Thousands of features compress tenfold; the layer holds no secret token (no BREACH).
        gzipped = len(body) > 1024 and "gzip" in request.headers.get("Accept-Encoding", "")
        response = HttpResponse(
            gzip.compress(body, compresslevel=5) if gzipped else body,
            content_type="application/geo+json",
        )
        if gzipped:
            response["Content-Encoding"] = "gzip"
        response["Vary"] = "Accept-Encoding"
        response["X-Journal-Seq"] = str(seq)
        return response


def _may_replay(request) -> None:
    if not request.user.has_perm("incidents.view_replay"):
        raise PermissionDenied("Le rejeu est réservé aux superviseurs.")


class ReplayStateView(APIView):
    """What the console showed at an instant, rebuilt from the journal."""

    @extend_schema(parameters=[s.ReplayStateQuerySerializer],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        _may_replay(request)
        query = s.ReplayStateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data["at"]
        state = replay.state_at(at=at)
        return Response(replay.present(state, at, incident=query.validated_data.get("incident"),
                                       sector=query.validated_data.get("sector")))


class ReplayEventsView(APIView):
    """The journal's events over a period, for the replay's timeline."""

    @extend_schema(parameters=[s.ReplayEventsQuerySerializer],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        _may_replay(request)
        query = s.ReplayEventsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(replay.timeline(**query.validated_data))
