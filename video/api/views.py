"""Thin API views for cameras, their events and statistics, snapshots and wall screens."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from controlroom.moments import parse_moment
from incidents import selectors as incident_selectors
from video import selectors, services
from video.api import serializers as s
from video.models import Screen
from video.views import journal_view


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class CameraViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cameras, their state and analyses. The stream address is never part of the answer: the
    live view goes through ``/cameras/{id}/live/``, masks applied by the server."""

    serializer_class = s.CameraSerializer
    filterset_fields = ["sector", "online", "sensitive", "enabled"]

    def get_queryset(self):
        return selectors.cameras_visible_to(user=self.request.user).order_by("name")

    @extend_schema(
        parameters=[OpenApiParameter("lat", OpenApiTypes.FLOAT, required=True),
                    OpenApiParameter("lon", OpenApiTypes.FLOAT, required=True),
                    OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 10 (3)")],
        responses=s.NearCameraSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def nearest(self, request):
        """The cameras nearest to a point, within 1 km, nearest first."""
        try:
            lat = float(request.query_params["lat"])
            lon = float(request.query_params["lon"])
            limit = int(request.query_params.get("limit", 3))
        except (KeyError, ValueError):
            raise ValidationError({"detail": "Indiquez lat et lon (nombres) et limit (entier)."}
                                  ) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 1 <= limit <= 10):
            raise ValidationError({"detail": "Point hors limites ou limit hors de 1 à 10."})
        found = selectors.cameras_nearest(user=request.user, lat=lat, lon=lon, limit=limit)
        return Response([{**s.CameraSerializer(camera).data, "distance_m": round(distance)}
                         for camera, distance in found])

    @extend_schema(request=None, responses=s.LiveSerializer)
    @action(detail=True, methods=["post"])
    def live(self, request, pk=None):
        """Start watching the camera (journaled); the answer says where its frames are."""
        camera = self.get_object()
        if not request.user.has_perm("video.view_live"):
            raise PermissionDenied("Vous n'avez pas le droit de voir le direct des caméras.")
        journal_view(request, camera, where="api")
        return Response({"frame_url": reverse("video:camera-frame", args=[camera.pk]),
                         "refresh_ms": round(1000 / settings.VIDEO_LIVE_FPS)})

    @extend_schema(
        parameters=[OpenApiParameter("since", OpenApiTypes.DATETIME,
                                     description="Periods starting from (default: 24 h ago)")],
        responses=s.StatisticSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def statistics(self, request, pk=None):
        """People per zone and line crossings per period: numbers, never images."""
        camera = self.get_object()
        rows = selectors.statistics_visible_to(user=request.user).filter(camera=camera)
        since = request.query_params.get("since")
        if since:
            try:
                moment = parse_moment(since)
            except ValueError as exc:
                raise ValidationError({"since": [str(exc)]}) from None
            if moment is None:
                raise ValidationError({"since": ["Date attendue au format ISO 8601."]})
            rows = rows.filter(period_start__gte=moment)
        return Response(s.StatisticSerializer(rows.order_by("period_start", "zone")[:2000],
                                              many=True).data)


class VideoEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """What the analyses saw, each with its alert and (until it expires) its snapshot."""

    serializer_class = s.VideoEventSerializer
    filterset_fields = ["camera", "rule", "alert"]

    def get_queryset(self):
        return selectors.events_visible_to(user=self.request.user).order_by("-occurred_at")


class SnapshotViewSet(viewsets.GenericViewSet):
    """Evidence snapshots: the blurred image is at its ``snapshot_url``; the unblurred one only
    here, with a reason, for who holds the permission (each view journaled)."""

    def get_queryset(self):
        return selectors.snapshots_visible_to(user=self.request.user)

    @extend_schema(request=s.UnblurSerializer,
                   responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["post"])
    def unblurred(self, request, pk=None):
        snapshot = self.get_object()
        data = _valid(s.UnblurSerializer, request)
        image = services.snapshot_unblurred(snapshot=snapshot, by=request.user,
                                            reason=data["reason"])
        response = HttpResponse(image, content_type="image/jpeg")
        response["Cache-Control"] = "no-store"
        return response


class ScreenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The room's screens and what each shows; ``route`` sends a camera to one."""

    serializer_class = s.ScreenSerializer

    def get_queryset(self):
        return selectors.screens_visible_to(user=self.request.user)

    @extend_schema(request=s.RouteSerializer,
                   responses={200: s.ScreenSerializer, 202: s.RoutingSerializer})
    @action(detail=True, methods=["post"])
    def route(self, request, pk=None):
        """Show a camera (``null``: nothing). A sensitive camera routed by an operator waits for a
        supervisor's approval: the answer is then the request (202)."""
        screen = self.get_object()
        data = _valid(s.RouteSerializer, request)
        camera = None
        if data["camera"] is not None:
            camera = selectors.cameras_visible_to(user=request.user).filter(
                pk=data["camera"]).first()
            if camera is None:
                raise Http404
        outcome = services.screen_route(screen=screen, camera=camera, by=request.user,
                                        reason=data["reason"])
        if isinstance(outcome, Screen):
            return Response(s.ScreenSerializer(outcome).data)
        return Response(s.RoutingSerializer(outcome).data, status=status.HTTP_202_ACCEPTED)


class RoutingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Requests to show a sensitive camera, and a supervisor's decision on each."""

    serializer_class = s.RoutingSerializer
    filterset_fields = ["status", "screen", "camera"]

    def get_queryset(self):
        return selectors.routings_visible_to(user=self.request.user)

    @extend_schema(request=None, responses=s.RoutingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        routing = services.routing_decide(routing=self.get_object(), by=request.user,
                                          approve=True)
        return Response(s.RoutingSerializer(routing).data)

    @extend_schema(request=s.DecisionSerializer, responses=s.RoutingSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = _valid(s.DecisionSerializer, request)
        routing = services.routing_decide(routing=self.get_object(), by=request.user,
                                          approve=False, note=data["note"])
        return Response(s.RoutingSerializer(routing).data)




class StepCameraView(APIView):
    """A "show the nearby cameras" procedure step, done by opening one of them (POST
    ``{"camera": id}``): the live view is journaled, the step done with the camera as evidence,
    and the answer gives the live view's address."""

    @extend_schema(request=s.StepCameraSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, step_id):
        step = incident_selectors.step_run_find(step_id=step_id)
        visible = incident_selectors.incidents_visible_to(user=request.user)
        if step is None or not visible.filter(pk=step.run.incident_id).exists():
            raise Http404
        camera_id = _valid(s.StepCameraSerializer, request)["camera"]
        camera = selectors.cameras_visible_to(user=request.user).filter(pk=camera_id).first()
        if camera is None:
            raise ValidationError({"camera": ["Caméra inconnue."]})
        url = services.step_camera_show(step=step, camera=camera, by=request.user)
        return Response({"step": step.pk, "camera": camera.pk, "live_url": url})
