"""Checking a point before anything located is written."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from controlroom import geo, selectors


def checked_point(lat, lon) -> tuple[float, float]:
    """(lat, lon) as floats, inside the city when one is configured, or ValidationError."""
    try:
        lat, lon = geo.check_point(lat, lon)
    except ValueError:
        raise ValidationError({"lat": [_(
            "La latitude et la longitude doivent être des nombres, la latitude entre -90 et 90 "
            "et la longitude entre -180 et 180.")]}) from None
    if selectors.city_current() is not None and not selectors.point_in_city(lat=lat, lon=lon):
        raise ValidationError({"lat": [_("Le lieu indiqué est en dehors de la commune.")]})
    return lat, lon
