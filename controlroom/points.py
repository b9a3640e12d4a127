"""Checking a point before anything located is written."""

from django.core.exceptions import ValidationError

from controlroom import geo, selectors


def checked_point(lat, lon) -> tuple[float, float]:
    """(lat, lon) as floats, inside the city when one is configured, or ValidationError."""
    try:
        lat, lon = geo.check_point(lat, lon)
    except ValueError as exc:
        raise ValidationError({"lat": [str(exc)]}) from None
    if selectors.city_current() is not None and not selectors.point_in_city(lat=lat, lon=lon):
        raise ValidationError({"lat": ["Le lieu indiqué est en dehors de la commune."]})
    return lat, lon
