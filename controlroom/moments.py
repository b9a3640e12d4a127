"""Instants given by users: parsed strictly, with a UTC offset real time zones have (±14 h)."""

from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

MAX_UTC_OFFSET = timedelta(hours=14)


def check_offset(moment: datetime) -> datetime:
    """The instant as given; ValueError if its UTC offset is beyond ±14 h (the database, like
    every time zone on Earth, has none such)."""
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValueError(_("Décalage horaire hors limites (±14 h au plus)."))
    return moment


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 date and time; None if it is not one, ValueError if it is out of range."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        raise ValueError(_("Date ou heure invalide.")) from None
    return None if moment is None else check_offset(moment)
