"""Refuse, before any view, query strings and form bodies holding a NUL character: PostgreSQL
cannot store one, and a view would otherwise fail with a server error."""

from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

FORM = "application/x-www-form-urlencoded"


def _has_nul(encoded: bytes) -> bool:
    return b"\x00" in encoded or b"\x00" in unquote_to_bytes(encoded)


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "").encode("latin-1", "replace")
        form = request.method == "POST" and request.content_type == FORM
        if _has_nul(query) or (form and _has_nul(request.body)):
            message = _("Les textes ne peuvent pas contenir de caractère nul.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
