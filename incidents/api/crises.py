"""The crisis room's API: thin views over ``incidents.services.crises``."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from controlroom.models import Agency
from incidents import selectors
from incidents.models import Crisis, Drawing, LogEntry, Task
from incidents.services import crises as services

MAX_KEY = 2**63 - 1  # PostgreSQL's bigint


def _key_field(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_KEY, **kwargs)


class CrisisOpenSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Crisis.Kind.choices)
    title = serializers.CharField(max_length=200)
    area = serializers.JSONField(required=False, allow_null=True)
    incidents = serializers.ListField(child=_key_field(), required=False, max_length=200)
    agencies = serializers.ListField(child=_key_field(), required=False, max_length=50)


class CrisisSummarySerializer(serializers.Serializer):
    """A crisis in the list (not paginated: the 200 most recent)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Crisis.Kind.choices)
    status = serializers.ChoiceField(choices=Crisis.Status.choices)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class DrawingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Drawing.Kind.choices)
    label = serializers.CharField(max_length=120, required=False, allow_blank=True)
    geometry = serializers.JSONField()


class LogSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    corrects = _key_field(required=False, allow_null=True)


class TaskSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Task.Kind.choices)
    title = serializers.CharField(max_length=300)
    agency = _key_field(required=False, allow_null=True)


class TaskStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Task.Status.choices)


class LinkSerializer(serializers.Serializer):
    incident = _key_field()


class InviteSerializer(serializers.Serializer):
    agency = _key_field()


class CloseSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=4000, required=False, allow_blank=True)


def _key(value) -> int:
    """A database key from the URL; anything else (not a number, beyond the keys' integers)
    is simply not found."""
    text = str(value or "")
    if not text.isascii() or not text.isdigit() or int(text) > MAX_KEY:
        raise NotFound()
    return int(text)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _agency(pk):
    if pk is None:
        return None
    agency = Agency.objects.filter(pk=pk).first()
    if agency is None:
        raise serializers.ValidationError({"agency": ["Agence inconnue."]})
    return agency


class CrisisViewSet(viewsets.ViewSet):
    """Crises: open one, follow it (map, logbook, tasks, figures), close it."""

    queryset = Crisis.objects.none()  # for the schema: ids are the crisis's integer keys

    def _crisis(self, request, pk) -> Crisis:
        return get_object_or_404(selectors.crises_visible_to(request.user), pk=_key(pk))

    def _present(self, crisis, code=status.HTTP_200_OK):
        crisis.refresh_from_db()
        return Response(selectors.crisis_detail(crisis), status=code)

    @extend_schema(operation_id="crises_list", responses={200: CrisisSummarySerializer(many=True)})
    def list(self, request):
        return Response([
            {"id": c.pk, "title": c.title, "kind": c.kind, "status": c.status,
             "opened_at": c.opened_at, "closed_at": c.closed_at}
            for c in selectors.crises_visible_to(request.user)[:200]])

    @extend_schema(request=CrisisOpenSerializer, responses={201: OpenApiTypes.OBJECT})
    def create(self, request):
        data = _valid(CrisisOpenSerializer, request)
        visible = selectors.incidents_visible_to(user=request.user)
        incidents = list(visible.filter(pk__in=data.get("incidents", [])))
        if len(incidents) != len(set(data.get("incidents", []))):
            raise serializers.ValidationError({"incidents": ["Incident inconnu."]})
        agencies = [_agency(pk) for pk in data.get("agencies", [])]
        crisis = services.crisis_open(by=request.user, kind=data["kind"], title=data["title"],
                                      area=data.get("area"), incidents=incidents,
                                      agencies=agencies)
        return self._present(crisis, status.HTTP_201_CREATED)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, pk=None):
        return self._present(self._crisis(request, pk))

    @extend_schema(request=DrawingSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def drawings(self, request, pk=None):
        crisis = self._crisis(request, pk)
        drawing = services.drawing_save(crisis=crisis, by=request.user,
                                        **_valid(DrawingSerializer, request))
        return Response(selectors.drawing_feature(drawing), status=status.HTTP_201_CREATED)

    @extend_schema(request=DrawingSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["patch", "delete"], url_path=r"drawings/(?P<drawing>\d+)")
    def drawing(self, request, pk=None, drawing=None):
        crisis = self._crisis(request, pk)
        shape = get_object_or_404(Drawing, pk=_key(drawing), crisis=crisis, removed_at=None)
        if request.method == "DELETE":
            services.drawing_remove(drawing=shape, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        shape = services.drawing_save(crisis=crisis, by=request.user, drawing=shape,
                                      **_valid(DrawingSerializer, request))
        return Response(selectors.drawing_feature(shape))

    @extend_schema(request=LogSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def log(self, request, pk=None):
        crisis = self._crisis(request, pk)
        data = _valid(LogSerializer, request)
        corrects = None
        if data.get("corrects"):
            corrects = LogEntry.objects.filter(pk=data["corrects"], crisis=crisis).first()
            if corrects is None:
                raise serializers.ValidationError({"corrects": ["Entrée inconnue."]})
        entry = services.log_add(crisis=crisis, by=request.user, text=data["text"],
                                 corrects=corrects)
        return Response({"id": entry.pk, "at": entry.at, "author": entry.author_label,
                         "text": entry.text, "corrects": entry.corrects_id},
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=TaskSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def tasks(self, request, pk=None):
        crisis = self._crisis(request, pk)
        data = _valid(TaskSerializer, request)
        task = services.task_add(crisis=crisis, by=request.user, kind=data["kind"],
                                 title=data["title"], agency=_agency(data.get("agency")))
        return Response({"id": task.pk, "status": task.status}, status=status.HTTP_201_CREATED)

    @extend_schema(request=TaskStatusSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["patch"], url_path=r"tasks/(?P<task>\d+)")
    def task(self, request, pk=None, task=None):
        crisis = self._crisis(request, pk)
        item = get_object_or_404(Task, pk=_key(task), crisis=crisis)
        item = services.task_set_status(task=item, by=request.user,
                                        **_valid(TaskStatusSerializer, request))
        return Response({"id": item.pk, "status": item.status})

    @extend_schema(request=LinkSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def incidents(self, request, pk=None):
        crisis = self._crisis(request, pk)
        data = _valid(LinkSerializer, request)
        incident = selectors.incidents_visible_to(user=request.user).filter(
            pk=data["incident"]).first()
        if incident is None:
            raise serializers.ValidationError({"incident": ["Incident inconnu."]})
        services.crisis_link_incident(crisis=crisis, incident=incident, by=request.user)
        return self._present(crisis)

    @extend_schema(request=InviteSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def agencies(self, request, pk=None):
        crisis = self._crisis(request, pk)
        agency = _agency(_valid(InviteSerializer, request)["agency"])
        services.crisis_invite(crisis=crisis, agency=agency, by=request.user)
        return self._present(crisis)

    @extend_schema(request=CloseSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        crisis = self._crisis(request, pk)
        crisis = services.crisis_close(crisis=crisis, by=request.user,
                                       **_valid(CloseSerializer, request))
        return self._present(crisis)

