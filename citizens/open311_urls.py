"""Open311 GeoReport v2 under /open311/: the discovery document and the v2 endpoint."""

from django.urls import path, re_path

from citizens import open311

app_name = "open311"
FMT = r"(?P<fmt>json|xml)"

urlpatterns = [
    path("", open311.key_service, name="key-service"),
    re_path(rf"^discovery\.{FMT}$", open311.discovery, name="discovery"),
    path("v2/", open311.not_found, name="root"),
    re_path(rf"^v2/services\.{FMT}$", open311.services_list, name="services"),
    re_path(rf"^v2/services/(?P<code>[-\w]+)\.{FMT}$", open311.service_detail, name="service"),
    re_path(rf"^v2/requests\.{FMT}$", open311.requests_view, name="requests"),
    re_path(rf"^v2/requests/(?P<request_id>\d+)\.{FMT}$", open311.request_detail, name="request"),
    re_path(rf"^v2/tokens/(?P<token>[-\w]+)\.{FMT}$", open311.token_detail, name="token"),
    re_path(r"^(?P<path>.*)$", open311.not_found),
]
