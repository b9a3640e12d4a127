"""Geography without GDAL: WGS84 points, H3 cells and GeoJSON polygons checked with shapely.

Pure functions, no Django import. GeoJSON coordinates are (lon, lat), as RFC 7946 says.
"""

import math

import h3
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

H3_RESOLUTION = 9
EARTH_RADIUS_M = 6_371_008.8


def h3_cell(lat: float, lon: float, resolution: int = H3_RESOLUTION) -> str:
    return h3.latlng_to_cell(lat, lon, resolution)


def check_point(lat, lon) -> tuple[float, float]:
    """Return (lat, lon) as floats or raise ValueError with a readable message."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ValueError("Latitude and longitude must be numbers.") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError("Latitude and longitude must be finite numbers.")
    if not -90 <= lat <= 90:
        raise ValueError("Latitude must be between -90 and 90.")
    if not -180 <= lon <= 180:
        raise ValueError("Longitude must be between -180 and 180.")
    return lat, lon


def polygon_from_geojson(value) -> BaseGeometry:
    """A valid Polygon or MultiPolygon from a GeoJSON geometry, Feature or raise ValueError."""
    if not isinstance(value, dict):
        raise ValueError("A GeoJSON object is expected.")
    if value.get("type") == "Feature":
        value = value.get("geometry") or {}
    if value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("A GeoJSON Polygon or MultiPolygon is expected.")
    try:
        geometry = shape(value)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ValueError(f"Invalid GeoJSON coordinates: {exc}") from None
    if geometry.is_empty or not geometry.is_valid:
        raise ValueError("The polygon is empty or self-intersecting.")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise ValueError("Coordinates must be WGS84 (longitude, latitude).")
    return geometry


class PreparedArea:
    """A polygon prepared for fast point-in-polygon tests."""

    def __init__(self, geojson: dict):
        self.geometry = polygon_from_geojson(geojson)
        self._prepared = prep(self.geometry)

    def contains(self, lat: float, lon: float) -> bool:
        return self._prepared.covers(Point(lon, lat))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
