from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from controlroom import selectors
from controlroom.health import health_report


@require_GET
@never_cache
def healthz(request):
    """The overall status for anyone (a load balancer, a monitor); the detail of each part, which
    names the backends and their errors, for staff only."""
    ok, checks = health_report()
    body = {"status": "ok" if ok else "degraded"}
    if request.user.is_active and request.user.is_staff:
        body["checks"] = checks
    return JsonResponse(body, status=200 if ok else 503)


@login_required
def home(request):
    viewer = selectors.viewer_for(request.user)
    crises = []
    if request.user.is_authenticated:
        from incidents.crisis_reads import crises_visible_to

        crises = crises_visible_to(request.user).filter(status="open")[:10]
    return render(
        request,
        "controlroom/home.html",
        {
            "may_watch": viewer.may_watch,
            "crises": crises,
            "city": selectors.city_current(),
            "tiles_url": settings.LEAFLET_CONFIG["TILES"],
            "live_labels": {
                "connecting": _("connexion…"),
                "connected": _("connecté"),
                "reconnecting": _("reconnexion…"),
                "filling": _("rattrapage…"),
                "closed": _("déconnecté"),
            },
        },
    )


@login_required
def sectors_geojson(request):
    return JsonResponse(selectors.sectors_geojson(), content_type="application/geo+json")
