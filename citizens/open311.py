"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), in JSON and in XML.

Field names, status values (``open``/``closed``), W3C dates and the error format
(a list of ``{code, description}`` with the matching HTTP status) follow the specification, so
any Open311 client works against this endpoint unchanged. Reads are public; posting a request
needs the ``api_key`` of a registered client application, in the query string or in the body.

Errors speak one language per request: English, the language of the specification and of most
clients, unless the request's ``Accept-Language`` prefers French.
"""

import re
from datetime import timedelta
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render as render_page
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import _split_rate, is_ratelimited

from citizens import selectors, services
from citizens.models import Report, Service
from controlroom.moments import parse_moment

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00Z"
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# XML element names of the items of each list, by the list's field name.
XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint",
             "formats": "format"}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _too_many(rate: str, description: str) -> Open311Error:
    """A 429 telling the client how long to wait: at most one window of the rate."""
    _count, seconds = _split_rate(rate)
    return Open311Error(429, description % {"seconds": seconds}, retry_after=seconds)


def api_language(request) -> str:
    """English unless ``Accept-Language`` prefers French to English."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        base = code.split("-")[0].lower()
        if base in ("fr", "en"):
            return base
    return "en"


# --- rendering -------------------------------------------------------------------------------
def _xml_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fill(element: ElementTree.Element, data: dict) -> None:
    for name, value in data.items():
        child = ElementTree.SubElement(element, name)
        if isinstance(value, dict):
            _xml_fill(child, value)
        elif isinstance(value, list):
            for item in value:
                node = ElementTree.SubElement(child, XML_ITEMS.get(name, "item"))
                if isinstance(item, dict):
                    _xml_fill(node, item)
                else:
                    node.text = _xml_text(item)
        else:
            child.text = _xml_text(value)


def render(fmt: str, data, *, root: str, item: str = "", status: int = 200) -> HttpResponse:
    """``data`` is a list of dicts (rendered as ``<root><item>…``) or one dict (``<root>…``)."""
    if fmt == "json":
        response = JsonResponse(data, status=status, safe=False,
                                json_dumps_params={"ensure_ascii": False})
    else:
        top = ElementTree.Element(root)
        if isinstance(data, list):
            for entry in data:
                _xml_fill(ElementTree.SubElement(top, item), entry)
        else:
            _xml_fill(top, data)
        body = ElementTree.tostring(top, encoding="unicode")
        response = HttpResponse(f'<?xml version="1.0" encoding="utf-8"?>\n{body}', status=status)
    response["Content-Type"] = CONTENT_TYPES[fmt]
    response["Access-Control-Allow-Origin"] = "*"
    return response


def render_error(fmt: str, status: int, description: str, *,
                 retry_after: int | None = None) -> HttpResponse:
    response = render(fmt, [{"code": status, "description": description}], root="errors",
                      item="error", status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def open311_view(view):
    """Open311 errors and validation errors become the specification's error list, in the
    request's language (see ``api_language``)."""
    def wrapper(request, *args, fmt="json", **kwargs):
        language = api_language(request)
        with translation.override(language):
            response = _answer(view, request, *args, fmt=fmt, **kwargs)
        response["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
        return response
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _answer(view, request, *args, fmt, **kwargs):
    try:
        if is_ratelimited(request, group="open311-read", key="ip",
                          rate=settings.OPEN311_READ_RATE, method=["GET", "HEAD"],
                          increment=True):
            raise _too_many(settings.OPEN311_READ_RATE, _(
                "Trop de requêtes : ralentissez et réessayez dans %(seconds)s secondes."))
        _check_jurisdiction(request)
        return view(request, *args, fmt=fmt, **kwargs)
    except Open311Error as error:
        return render_error(fmt, error.status, error.description, retry_after=error.retry_after)
    except ValidationError as error:
        return render_error(fmt, 400, _validation_text(error))


def _validation_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(
            f"{field}: {message}" for field, messages in error.message_dict.items()
            for message in messages
        )
    return " ".join(error.messages)


def _check_jurisdiction(request) -> None:
    given = _param(request, "jurisdiction_id")
    served = settings.OPEN311_JURISDICTION
    if given and served and given != served:
        raise Open311Error(404, _("Le jurisdiction_id indiqué est inconnu."))


def _param(request, name: str) -> str:
    """A parameter from the query string or, for a POST, from the body (clients do both)."""
    value = request.GET.get(name, "")
    if not value and request.method == "POST":
        value = request.POST.get(name, "")
    return value


def w3c(moment) -> str | None:
    """A W3C date-time with the local offset, e.g. ``2026-11-23T14:05:09+01:00``."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- representations -------------------------------------------------------------------------
def service_entry(service: Service) -> dict:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        "metadata": bool(service.attributes.all()),
        "type": "realtime",
        "keywords": service.keywords,
        "group": service.group,
    }


def service_definition(service: Service) -> dict:
    return {
        "service_code": service.code,
        "attributes": [
            {
                "variable": True,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description,
                "order": attribute.order,
                "description": attribute.description,
                "values": [{"key": v.get("key"), "name": v.get("name")}
                           for v in attribute.values or []],
            }
            for attribute in service.attributes.all()
        ],
    }


def open311_status(report: Report) -> str:
    return "closed" if report.is_closed else "open"


def request_entry(report: Report) -> dict:
    """A service request as the public sees it: no contact data, no photo of the citizen's,
    and for services that may point at people, neither the text nor the exact place."""
    public = report.service.publish_details
    lat, lon = (report.lat, report.lon) if public else (round(report.lat, 3), round(report.lon, 3))
    return {
        "service_request_id": str(report.pk),
        "status": open311_status(report),
        "status_notes": report.status_notes,
        "service_name": report.service.name,
        "service_code": report.service.code,
        "description": report.description if public else "",
        "agency_responsible": settings.OPEN311_AGENCY,
        "service_notice": "",
        "requested_datetime": w3c(report.requested_at),
        "updated_datetime": w3c(report.updated_at),
        "expected_datetime": None,
        "address": report.address_string if public else "",
        "address_id": "",
        "zipcode": "",
        "lat": lat,
        "long": lon,
        # Photos stay internal: only a URL the client application published itself, if any.
        "media_url": (report.media_url or None) if public else None,
    }


# --- views -----------------------------------------------------------------------------------
@require_GET
def key_service(request):
    """How a client application obtains an api_key (the discovery's ``key_service``)."""
    return render_page(request, "citizens/open311_keys.html", {
        "contact": settings.OPEN311_CONTACT,
        "discovery": request.build_absolute_uri(reverse("open311:discovery", args=["json"])),
        "endpoint": request.build_absolute_uri(reverse("open311:root")),
        "post_rate": settings.OPEN311_POST_RATE,
    })


@require_GET
def discovery(request, fmt):
    endpoint = request.build_absolute_uri(reverse("open311:root"))
    data = {
        "changeset": CHANGESET,
        "contact": settings.OPEN311_CONTACT,
        "key_service": request.build_absolute_uri(reverse("open311:key-service")),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": endpoint.rstrip("/"),
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return render(fmt, data, root="discovery")


@require_GET
@open311_view
def services_list(request, fmt):
    services_ = selectors.services_public()
    return render(fmt, [service_entry(s) for s in services_], root="services", item="service")


@require_GET
@open311_view
def service_detail(request, code, fmt):
    service = selectors.services_public().filter(code=code).first()
    if service is None:
        raise Open311Error(404, _("Le service_code indiqué est inconnu."))
    return render(fmt, service_definition(service), root="service_definition")


@csrf_exempt  # authenticated by api_key, never by a cookie
@require_http_methods(["GET", "HEAD", "POST"])
@open311_view
def requests_view(request, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    return render(fmt, [request_entry(r) for r in _filtered_requests(request.GET)],
                  root="service_requests", item="request")


@require_GET
@open311_view
def request_detail(request, request_id, fmt):
    report = selectors.reports_public().filter(pk=request_id).first()
    if report is None:
        raise Open311Error(404, _("Le service_request_id indiqué est inconnu."))
    return render(fmt, [request_entry(report)], root="service_requests", item="request")


@require_GET
@open311_view
def token_detail(request, token, fmt):
    report = selectors.report_by_code(token)
    if report is None:
        raise Open311Error(404, _("Le token indiqué est inconnu."))
    return render(fmt, [{"service_request_id": str(report.pk), "token": report.code}],
                  root="service_requests", item="request")


def not_found(request, path=""):
    fmt = "xml" if path.endswith(".xml") else "json"
    language = api_language(request)
    with translation.override(language):
        response = render_error(fmt, 404, _(
            "Aucune ressource Open311 à cette adresse : voyez le document de découverte."))
    response["Content-Language"] = language
    return response


# --- reading requests ------------------------------------------------------------------------
def _date_param(params, name):
    value = params.get(name, "").strip()
    if not value:
        return None
    try:  # a "+" left unescaped arrives as a space
        moment = parse_moment(value.replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None:
        raise Open311Error(400, _(
            "%(name)s doit être une date et heure W3C, par exemple 2026-11-23T08:00:00+01:00."
        ) % {"name": name})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _filtered_requests(params):
    reports = selectors.reports_public()
    ids = [part.strip() for part in params.get("service_request_id", "").split(",") if part.strip()]
    if ids:  # the specification: other parameters are ignored when ids are given
        return list(reports.filter(pk__in=[int(i) for i in ids if i.isdigit()])[:MAX_RESULTS])
    codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
    if codes:
        reports = reports.filter(service__code__in=codes)
    start, end = _date_param(params, "start_date"), _date_param(params, "end_date")
    if start and end and start > end:
        raise Open311Error(400, _("start_date doit précéder end_date."))
    if not start and not end:
        start = timezone.now() - timedelta(days=DEFAULT_DAYS)
    if start:
        reports = reports.filter(requested_at__gte=start)
    if end:
        reports = reports.filter(requested_at__lte=end)
    statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _(
            "status vaut open, closed ou les deux (séparés par une virgule)."))
    if statuses == {"open"}:
        reports = reports.exclude(status__in=Report.CLOSED_STATUSES)
    elif statuses == {"closed"}:
        reports = reports.filter(status__in=Report.CLOSED_STATUSES)
    return list(reports[:MAX_RESULTS])


# --- posting a request -----------------------------------------------------------------------
def _attributes(post) -> dict:
    """``attribute[code]=v`` gives one answer; ``attribute[code][]=v`` or a repeated
    ``attribute[code]`` gives a list (a multi-value list's answers)."""
    answers = {}
    for name in post:
        match = ATTRIBUTE_FIELD.match(name)
        if match:
            code, many = match.group(1), match.group(2)
            values = answers.get(code, [])
            values = (values if isinstance(values, list) else [values]) + post.getlist(name)
            answers[code] = values if many or len(values) > 1 else values[0]
    return answers


def _post_request(request, fmt):
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.CITIZEN_MAX_REQUEST_BYTES:
        raise Open311Error(413, _("La requête est trop volumineuse."))
    post = request.POST
    key = _param(request, "api_key")
    if not key:
        raise Open311Error(403, _("Le api_key n'a pas été fourni."))
    client = services.client_for_key(key)
    if client is None:
        raise Open311Error(403, _("Le api_key n'est pas valide."))
    if is_ratelimited(request, group="open311-post", key=lambda group, request: client.code,
                      rate=settings.OPEN311_POST_RATE, method="POST", increment=True):
        raise _too_many(settings.OPEN311_POST_RATE, _(
            "Trop de requêtes pour ce api_key : réessayez dans %(seconds)s secondes."))
    code = post.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("Le service_code n'a pas été fourni."))
    service = selectors.services_public().filter(code=code).first()
    if service is None:
        raise Open311Error(404, _("Le service_code indiqué est inconnu."))
    lat, lon = post.get("lat", "").strip(), post.get("long", "").strip()
    if not (lat and lon):
        if post.get("address_string") or post.get("address_id"):
            raise Open311Error(400, _(
                "lat et long sont requis : ce service ne géocode ni address_string ni "
                "address_id."))
        raise Open311Error(400, _("Ni lat/long, ni address_string, ni address_id n'a été "
                                  "fourni."))
    media_url = post.get("media_url", "").strip()
    if media_url and not re.match(r"^https?://", media_url):
        raise Open311Error(400, _("media_url doit être une adresse http ou https."))
    submission = services.Submission(
        service=service,
        lat=lat,
        lon=lon,
        description=post.get("description", ""),
        address_string=post.get("address_string", ""),
        attributes=_attributes(post),
        photos=[upload.read() for upload in request.FILES.getlist("media")],
        media_url=media_url,
        contact=services.Contact(
            email=post.get("email", ""), phone=post.get("phone", ""),
            first_name=post.get("first_name", ""), last_name=post.get("last_name", ""),
            device_id=post.get("device_id", ""), account_id=post.get("account_id", ""),
        ),
        consent=True,  # the client application collected it, as its agreement with the city says
    )
    report = services.report_submit(submission=submission, channel=Report.Channel.OPEN311,
                                    client=client)
    tracking = request.build_absolute_uri(reverse("citizens:track", args=[report.code]))
    return render(fmt, [{
        "service_request_id": str(report.pk),
        "token": report.code,
        "service_notice": _("Suivi du signalement : %(url)s") % {"url": tracking},
        "account_id": report.account_id or None,
    }], root="service_requests", item="request")
