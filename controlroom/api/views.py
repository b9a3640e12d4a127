from django.utils.http import urlencode
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from controlroom import journal, selectors
from controlroom.api.serializers import EventPageSerializer, EventQuerySerializer
from controlroom.middleware import session_left_as_is


class EventListView(APIView):
    """Journal events after a sequence number, scoped to what the user may see.

    Consoles call it to fill a gap their heartbeat revealed. Read the pages in turn until
    ``next`` is null; then everything visible up to ``latest_seq`` has been seen. A console's
    machine reads, not a person's activity: the session is not renewed (nor written).
    """

    @extend_schema(parameters=[EventQuerySerializer], responses=EventPageSerializer)
    def get(self, request):
        session_left_as_is(request)
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        viewer = selectors.viewer_for(request.user)
        if not viewer.may_watch:
            raise PermissionDenied("Vous n'avez pas accès au journal.")
        # Read the head first: events commit in sequence order, so all up to it are visible now.
        latest = journal.head_seq()
        events = list(
            selectors.events_visible_to(viewer=viewer, after=after).filter(seq__lte=latest)[:limit]
        )
        next_url = None
        if len(events) == limit:
            next_url = request.build_absolute_uri(
                f"{request.path}?{urlencode({'after': events[-1].seq, 'limit': limit})}"
            )
        return Response(
            {
                "results": [journal.live_message(event) for event in events],
                "latest_seq": latest,
                "next": next_url,
            }
        )
