"""The project's middleware.

- ``RefuseNulMiddleware`` refuses, before any view, query strings and form bodies holding a NUL
  character: PostgreSQL cannot store one, and a view would otherwise fail with a server error.
- ``SessionMiddleware`` is Django's, except that a view may leave the session as it is
  (``session_left_as_is``): with ``SESSION_SAVE_EVERY_REQUEST`` every request writes the session,
  and a thousand consoles filling a gap at once would write a thousand sessions for nothing.
"""

from urllib.parse import unquote_to_bytes

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.cache import patch_vary_headers
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


def session_left_as_is(request) -> None:
    """Ask the session middleware not to renew this request's session (a DRF request or a
    Django one). A session the view changed is still saved."""
    getattr(request, "_request", request).session_left_as_is = True


class SessionMiddleware(DjangoSessionMiddleware):
    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if (getattr(request, "session_left_as_is", False) and session is not None
                and not session.modified):
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)
