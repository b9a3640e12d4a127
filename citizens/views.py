"""Public pages: choose a service, report, get a tracking code, follow the report, erase contact.

No account is ever needed. Posting is rate-limited per IP address and guarded by CSRF and a
honeypot; nothing is written unless every check passed.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage, is_ratelimited

from citizens import pending, selectors, services
from citizens.forms import ReportForm
from controlroom import selectors as zones
from controlroom.errors import StateConflict


def _map_context() -> dict:
    city = zones.city_current()
    centre = zones.city_centre() or settings.LEAFLET_CONFIG["DEFAULT_CENTER"]
    return {
        "city": city,
        "streets": zones.city_streets(),
        "map_config": {
            "tiles": settings.LEAFLET_CONFIG["TILES"],
            "center": list(centre),
            "zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
            "boundary": city.boundary if city else None,
            "labels": {
                "locating": _("Recherche de votre position…"),
                "located": _("Position trouvée : vérifiez le repère sur la carte."),
                "denied": _("Position indisponible : touchez la carte pour indiquer le lieu."),
                "outside": _("Ce lieu est en dehors de la commune."),
                "chosen": _("Lieu choisi. Vous pouvez déplacer le repère."),
                "street": _("Repère placé : %(name)s. Déplacez-le jusqu'au lieu exact."),
                "unknown": _("Rue introuvable dans la liste : choisissez une proposition, ou "
                             "touchez la carte."),
                "empty": _("Saisissez le nom d'une rue ou d'une place."),
                "moved": _("Centre de la carte déplacé. Entrée ou Espace place le repère "
                           "au centre."),
            },
        },
    }


def report_start(request):
    services_ = list(selectors.services_public())
    groups: dict[str, list] = {}
    for service in services_:
        groups.setdefault(service.group or _("Autres"), []).append(service)
    return render(request, "citizens/start.html", {"groups": groups, **_map_context()})


@never_cache
@require_http_methods(["GET", "POST"])
def report_form(request, code):
    service = selectors.services_public().filter(code=code).first()
    if service is None:
        raise Http404(_("Ce type de signalement n'existe pas ou n'est plus proposé."))
    status, page_error = 200, ""
    if request.method == "POST":
        form, status = _submit(request, service)
        if form is None:
            return status  # a redirect to the success page
    else:
        form = ReportForm(service=service)
    if status == 413:
        page_error = _("L'envoi est trop volumineux : joignez moins de photos, ou des photos "
                       "plus légères.")
    return render(request, "citizens/form.html", {
        "form": form, "service": service, "page_error": page_error, **_map_context(),
    }, status=status)


def _submit(request, service):
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.CITIZEN_MAX_REQUEST_BYTES:
        return ReportForm(service=service), 413  # refused before the body is read
    form = ReportForm(request.POST, request.FILES, service=service)
    # Only accepted reports use up the allowance (a citizen correcting a field is not refused
    # for it); every attempt counts towards a wider limit, against scripted posting.
    if _attempts_limited(request) or _reports_limited(request, increment=False):
        form.is_valid()
        form.add_error(None, _("Trop de signalements ont été envoyés depuis cette connexion. "
                               "Réessayez dans quelques minutes."))
        return form, 429
    if not form.is_valid():
        form.keep_photos()
        return form, 400
    kept = form.cleaned_data["kept_photos"]
    try:
        report = services.report_submit(submission=form.submission(form.photos_to_send()))
    except ValidationError as error:
        form.add_service_errors(error)
        form.keep_photos()
        return form, 400
    pending.discard(kept)
    _reports_limited(request, increment=True)
    return None, redirect("citizens:done", code=report.code)


def _attempts_limited(request) -> bool:
    return is_ratelimited(request, group="citizen-report-attempt", key="ip",
                          rate=settings.CITIZEN_REPORT_ATTEMPT_RATE, method="POST",
                          increment=True)


def _reports_limited(request, *, increment: bool) -> bool:
    """Whether this address has sent its allowance of accepted reports (``increment``: count
    one more, once a report was taken)."""
    usage = get_usage(request, group="citizen-report", key="ip",
                      rate=settings.CITIZEN_REPORT_RATE, method="POST", increment=increment)
    if usage is None:
        return False
    return usage["should_limit"] or (not increment and usage["count"] >= usage["limit"])


def report_done(request, code):
    report = selectors.report_by_code(code)
    if report is None:
        raise Http404(_("Aucun signalement ne correspond à ce code."))
    return render(request, "citizens/done.html", {"report": report, "city": zones.city_current()})


@never_cache
def track_lookup(request):
    code = request.GET.get("code", "")
    error = ""
    if code:
        if _tracking_limited(request):
            error = _("Trop de recherches depuis cette connexion. Réessayez dans une minute.")
        elif selectors.report_by_code(code) is None:
            error = _("Aucun signalement ne correspond à ce code. Vérifiez-le : il figure sur "
                      "la page de confirmation et compte 12 caractères.")
        else:
            return redirect("citizens:track", code=selectors.report_by_code(code).code)
    return render(request, "citizens/track_lookup.html",
                  {"code": code, "error": error, "city": zones.city_current()},
                  status=400 if error else 200)


def _tracking_limited(request) -> bool:
    return is_ratelimited(request, group="citizen-tracking", key="ip",
                          rate=settings.CITIZEN_TRACKING_RATE, method=["GET", "POST"],
                          increment=True)


@never_cache
@require_http_methods(["GET", "POST"])
def track(request, code):
    if _tracking_limited(request):
        return render(request, "citizens/track_lookup.html",
                      {"error": _("Trop de recherches depuis cette connexion. Réessayez dans "
                                  "une minute.")}, status=429)
    report = selectors.report_by_code(code)
    if report is None:
        raise Http404(_("Aucun signalement ne correspond à ce code."))
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "erase_contact":
        # Erasing cannot be undone: the citizen confirms first.
        return render(request, "citizens/track.html", {
            "report": report, "city": zones.city_current(), "confirm_erase": True,
            "updates": report.updates.order_by("at", "pk"),
        })
    if action == "erase_contact_confirmed":
        try:
            services.report_erase_contact(report=report)
            messages.success(request, _("Vos coordonnées ont été effacées."))
        except StateConflict:
            messages.info(request, _("Ce signalement ne garde aucune coordonnée."))
        return redirect("citizens:track", code=report.code)
    return render(request, "citizens/track.html", {
        "report": report,
        "city": zones.city_current(),
        "updates": report.updates.order_by("at", "pk"),
    })
