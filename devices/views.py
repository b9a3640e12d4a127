"""Public CAP 1.2 messages and their Atom feed: population alerts are public information."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from devices import cap, population
from devices.models import PopulationAlert

FEED_SIZE = 100


@require_GET
def cap_message(request, identifier):
    alert = PopulationAlert.objects.filter(
        identifier=identifier, status=PopulationAlert.Status.ISSUED).select_related(
        "references", "sector").first()
    if alert is None:
        raise Http404
    response = HttpResponse(population.cap_xml(alert), content_type=cap.CAP_MIME_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def cap_feed(request):
    issued = (PopulationAlert.objects.filter(status=PopulationAlert.Status.ISSUED)
              .order_by("-sent")[:FEED_SIZE])
    entries = [{
        "id": f"urn:cap:{settings.CAP_SENDER}:{alert.identifier}",
        "title": f"{alert.get_msg_type_display()} — {alert.headline}",
        "updated": alert.sent,
        "summary": alert.description,
        "link": request.build_absolute_uri(reverse("cap-message", args=[alert.identifier])),
    } for alert in issued]
    body = cap.atom_feed(
        title=settings.CAP_SENDER_NAME, feed_id=f"urn:cap:{settings.CAP_SENDER}:feed",
        updated=entries[0]["updated"] if entries else timezone.now(),
        self_url=request.build_absolute_uri(reverse("cap-feed")), entries=entries,
    )
    response = HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response
