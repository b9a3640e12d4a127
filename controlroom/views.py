from django.contrib.auth.decorators import login_required
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
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
def sectors_geojson(request):
    return JsonResponse(selectors.sectors_geojson(), content_type="application/geo+json")


@login_required
def city_geojson(request):
    city = selectors.city_current()
    features = []
    if city is not None:
        features.append({"type": "Feature", "id": city.pk, "geometry": city.boundary,
                         "properties": {"name": city.name}})
    return JsonResponse({"type": "FeatureCollection", "features": features},
                        content_type="application/geo+json")


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links to."""
    return HttpResponsePermanentRedirect(static("controlroom/favicon.ico"))
