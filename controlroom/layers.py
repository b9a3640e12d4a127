"""The map-layers registry: each app registers its GeoJSON layers (RFC 7946: lon, lat) when it
loads, and the layers API serves them by name.

Layers are built from ``values()`` rows, not model instances or serializers: a console asks for
thousands of features at once and must have them in a fraction of a second.
"""

from django.db.models import CharField, Func


class IsoUtc(Func):
    """A timestamp as ISO 8601 UTC text, formatted by the database: turning thousands of rows
    into Python datetimes only to print them again costs more than the query itself."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection,
            template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', %(expressions)s)",
            **extra,
        )


def collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def feature(kind: str, pk: int, lat: float, lon: float, properties: dict) -> dict:
    return {
        "type": "Feature",
        "id": f"{kind}-{pk}",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": kind, "id": pk, **properties},
    }


LAYERS: dict = {}


def register(name: str, build) -> None:
    """Apps add their layers (``build(user=...) -> FeatureCollection``) when they load."""
    LAYERS[name] = build
