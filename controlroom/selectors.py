"""Reads of the control room's data. Agency scoping of the journal is enforced here."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from controlroom import geo
from controlroom.models import City, Event, EventAgency, Sector


@dataclass(frozen=True)
class Viewer:
    """What a user may see of the journal, computed once (e.g. when a socket connects)."""

    user_id: int
    may_watch: bool
    sees_all: bool
    agency_id: int | None
    # For the access rules of the objects events are about (``subject_rule_register``).
    user: Any = field(default=None, compare=False, repr=False)

    def can_see(self, agencies: list[int]) -> bool:
        return self.sees_all or (self.agency_id is not None and self.agency_id in agencies)


def viewer_for(user) -> Viewer:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Viewer(user_id=0, may_watch=False, sees_all=False, agency_id=None)
    return Viewer(
        user_id=user.pk,
        may_watch=user.has_perm("controlroom.view_event"),
        sees_all=user.has_perm("controlroom.view_all_events"),
        agency_id=user.agency_id,
        user=user,
    )


# An event about an object is read under the object's own access rule: an app registers, for a
# model of its own, ``rule(user)`` giving the objects the user may see (a queryset), or None
# when the user sees them all. A crisis closed to a liaison closes its story to them too.
SubjectRule = Callable[[Any], QuerySet | None]
_subject_rules: dict[tuple[str, str], SubjectRule] = {}


def subject_rule_register(app_label: str, model_name: str, rule: SubjectRule) -> None:
    _subject_rules[(app_label, model_name)] = rule


def _subject_filter(user) -> Q:
    allowed = Q()
    for (app_label, model_name), rule in _subject_rules.items():
        visible = rule(user)
        if visible is None:
            continue
        ids = visible.order_by().annotate(
            subject_key=Cast("pk", output_field=CharField())).values("subject_key")
        allowed &= ~Q(subject_app=app_label, subject_model=model_name) | Q(subject_id__in=ids)
    return allowed


def events_visible_to(*, viewer: Viewer, after: int = 0) -> QuerySet[Event]:
    """Journal events after ``after`` that the viewer may see, in sequence order."""
    if not viewer.may_watch:
        return Event.objects.none()
    events = Event.objects.filter(seq__gt=after).order_by("seq")
    if viewer.user is not None:
        events = events.filter(_subject_filter(viewer.user))
    if viewer.sees_all:
        return events
    if viewer.agency_id is None:
        return Event.objects.none()
    shared = EventAgency.objects.filter(event_id=OuterRef("seq"), agency_id=viewer.agency_id)
    return events.filter(Exists(shared))


def city_current() -> City | None:
    return City.objects.order_by("pk").first()


def sectors_geojson(*, city: City | None = None) -> dict:
    """The sectors as a GeoJSON FeatureCollection (RFC 7946)."""
    sectors = Sector.objects.all() if city is None else city.sectors.all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": sector.pk,
                "geometry": sector.geometry,
                "properties": {"code": sector.code, "name": sector.name},
            }
            for sector in sectors.order_by("name")
        ],
    }


class _AreaCache:
    """Prepared polygons of the city and its sectors, rebuilt when any of them changes."""

    def __init__(self):
        self.key = None
        self.city = None
        self.centre: tuple[float, float] | None = None
        self.sectors: list[tuple[int, geo.PreparedArea]] = []

    def refresh(self):
        city = city_current()
        # Geometries are read again only when a sector changed: this runs for every located write.
        versions = tuple(Sector.objects.order_by("pk").values_list("pk", "updated_at"))
        key = (city and (city.pk, repr(city.boundary)), versions)
        if key != self.key:
            self.city = geo.PreparedArea(city.boundary) if city else None
            point = self.city.geometry.representative_point() if city else None
            self.centre = (point.y, point.x) if point else None
            sectors = Sector.objects.order_by("pk").values_list("pk", "geometry")
            self.sectors = [(pk, geo.PreparedArea(geometry)) for pk, geometry in sectors]
            self.key = key
        return self


_areas = _AreaCache()


def point_in_city(*, lat: float, lon: float) -> bool:
    areas = _areas.refresh()
    return areas.city is not None and areas.city.contains(lat, lon)


def city_centre() -> tuple[float, float] | None:
    """A (lat, lon) point inside the city, for distances to it."""
    return _areas.refresh().centre


def sector_at(*, lat: float, lon: float) -> Sector | None:
    """The sector containing the point, or None outside every sector."""
    for pk, area in _areas.refresh().sectors:
        if area.contains(lat, lon):
            return Sector.objects.get(pk=pk)
    return None


def _streets_file(path: str) -> list[dict]:
    """The streets and squares of a list file (JSON: ``{"streets": [{"name", "lat", "lon"}]}``),
    read again when the file changes."""
    import json
    from pathlib import Path

    file = Path(path)
    try:
        stamp = file.stat().st_mtime_ns
    except OSError:
        return []
    cached = _streets_cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        rows = json.loads(file.read_text(encoding="utf-8")).get("streets", [])
        streets = [{"name": str(row["name"])[:120], "lat": float(row["lat"]),
                    "lon": float(row["lon"])} for row in rows]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    streets.sort(key=lambda street: street["name"])
    _streets_cache[path] = (stamp, streets)
    return streets


_streets_cache: dict[str, tuple[int, list[dict]]] = {}


def city_streets() -> list[dict]:
    """The city's streets and squares (name, a point on them) from ``CITY_STREETS_FILE``, those
    inside the current city only: a list people can place a report by, with no geocoding
    service."""
    from django.conf import settings

    path = getattr(settings, "CITY_STREETS_FILE", "")
    if not path:
        return []
    return [street for street in _streets_file(str(path))
            if point_in_city(lat=street["lat"], lon=street["lon"])]
