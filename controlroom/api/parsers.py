"""Request bodies the database can store: no NUL character in any text (PostgreSQL refuses it in
text and jsonb alike), and JSON nested a bounded depth. Refused with a 400 before any view runs."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64


def check_value(value, depth: int = 0) -> None:
    """Raise ParseError if ``value`` holds a NUL character or nests deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise ParseError(_("Données imbriquées trop profondément (%(depth)s niveaux au plus).")
                         % {"depth": MAX_DEPTH})
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError(_("Les textes ne peuvent pas contenir de caractère nul."))
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key, depth + 1)
            check_value(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_value(item, depth + 1)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("Données imbriquées trop profondément (%(depth)s niveaux au plus).")
                             % {"depth": MAX_DEPTH}) from None
        check_value(data)
        return data


def _check_querydict(data) -> None:
    for key, values in data.lists():
        check_value(key)
        for value in values:
            check_value(value)


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_querydict(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_querydict(result.data)  # the fields; files are bytes and checked by their views
        return result
