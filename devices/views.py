"""Public pages of the devices app: CAP 1.2 messages and their Atom feed (population alerts
are public information), and the register of sound sensors (what they listen for, when, and
what is kept), the transparency the CNIL asks of any sensor on the public way."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_ratelimit.core import is_ratelimited

from controlroom import selectors as zones
from devices import cap
from devices.models import PopulationAlert, SoundSensor
from devices.services import population, sound

FEED_SIZE = 100
# What each CAP <responseType> asks of the public, as the alert's page says it.
RESPONSE_LABELS = {
    "Shelter": _("Mettez-vous à l'abri dans un bâtiment."),
    "Evacuate": _("Quittez la zone."),
    "Prepare": _("Préparez-vous à agir."),
    "Execute": _("Suivez les consignes ci-dessous."),
    "Avoid": _("Évitez la zone."),
    "Monitor": _("Restez informé."),
    "Assess": _("Évaluez la situation autour de vous."),
    "AllClear": _("Le danger est écarté : reprenez vos activités normales."),
    "None": _("Aucune action n'est requise."),
}


@require_GET
def cap_message(request, identifier):
    alert = PopulationAlert.objects.filter(
        identifier=identifier, status=PopulationAlert.Status.ISSUED,
        exercise=None).select_related(
        "references", "sector").first()
    if alert is None:
        raise Http404
    response = HttpResponse(population.cap_xml(alert), content_type=cap.CAP_MIME_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _published():
    return PopulationAlert.objects.filter(status=PopulationAlert.Status.ISSUED, exercise=None)


@require_GET
def cap_feed(request):
    """The public feed: real messages only (test messages have their own feed)."""
    return _feed(request, _published().filter(cap_status=PopulationAlert.CapStatus.ACTUAL),
                 url_name="cap-feed", suffix="feed", title=settings.CAP_SENDER_NAME)


@require_GET
def cap_test_feed(request):
    """The messages (``status=Test``) that test the chain end to end, for the hubs that check
    they receive them; kept out of the public feed."""
    return _feed(request, _published().filter(cap_status=PopulationAlert.CapStatus.TEST),
                 url_name="cap-test-feed", suffix="test-feed",
                 title=f"{settings.CAP_SENDER_NAME} — messages de test")


def _feed(request, alerts, *, url_name, suffix, title):
    entries = [{
        "id": f"urn:cap:{settings.CAP_SENDER}:{alert.identifier}",
        "title": f"{alert.get_msg_type_display()} — {alert.headline}",
        "updated": alert.sent,
        "summary": alert.description,
        "link": request.build_absolute_uri(reverse("cap-message", args=[alert.identifier])),
    } for alert in alerts.order_by("-sent")[:FEED_SIZE]]
    body = cap.atom_feed(
        title=title, feed_id=f"urn:cap:{settings.CAP_SENDER}:{suffix}",
        updated=entries[0]["updated"] if entries else timezone.now(),
        self_url=request.build_absolute_uri(reverse(url_name)), entries=entries,
    )
    response = HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def population_alert_page(request, identifier):
    """The public page of an issued message (CAP <web>): what it says, where, until when, and
    what came before and after it. Nothing about who wrote or issued it."""
    if is_ratelimited(request, group="public-register", key="ip",
                      rate=settings.CITIZEN_TRACKING_RATE, method=["GET"], increment=True):
        return HttpResponse("Trop de requêtes : réessayez dans une minute.", status=429,
                            content_type="text/plain; charset=utf-8")
    alert = _published().filter(identifier=identifier).select_related("references").first()
    if alert is None:
        raise Http404
    later = _published().filter(references=alert).order_by("sent").first()
    return render(request, "devices/population_alert.html", {
        "alert": alert, "city": zones.city_current(), "later": later,
        "earlier": population.earlier_messages(alert, at=alert.sent),
        "test": alert.cap_status == PopulationAlert.CapStatus.TEST,
        "expired": alert.expires <= timezone.now(),
        "response": RESPONSE_LABELS[population.response_type(alert)],
    })


@require_GET
def sound_sensors(request):
    """The public register of sound sensors. Rate-limited like the other public pages."""
    if is_ratelimited(request, group="public-register", key="ip",
                      rate=settings.CITIZEN_TRACKING_RATE, method=["GET"], increment=True):
        return HttpResponse("Trop de requêtes : réessayez dans une minute.", status=429,
                            content_type="text/plain; charset=utf-8")
    sensors = (SoundSensor.objects.filter(device__active=True).select_related(
        "device", "device__sector").order_by("device__name"))
    rows = [{"name": s.device.name, "sector": s.device.sector, "lat": round(s.device.lat, 4),
             "lon": round(s.device.lon, 4), "purpose": s.purpose, "enabled": s.enabled,
             "hours": sound.hours_text(s),
             "detections": [sound.label(kind) for kind in (s.detections or sound.LABELS)]}
            for s in sensors]
    return render(request, "devices/sound_sensors.html",
                  {"sensors": rows, "city": zones.city_current(),
                   "level_seconds": settings.SOUND_LEVEL_SECONDS,
                   "retention_hours": settings.TELEMETRY_RAW_RETENTION_HOURS})
