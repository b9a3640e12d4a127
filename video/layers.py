"""The cameras layer of the console map (never the stream address)."""

from controlroom.layers import collection, feature
from video import selectors


def cameras_layer(*, user) -> dict:
    rows = (
        selectors.cameras_visible_to(user=user)
        .filter(enabled=True)
        .order_by()
        .values_list("pk", "lat", "lon", "code", "name", "online", "sensitive", "analytics")
    )
    return collection([
        feature("camera", pk, lat, lon, {
            "code": code, "name": name, "online": online, "sensitive": sensitive,
            "analytics": sorted(analytics or {}),
        })
        for pk, lat, lon, code, name, online, sensitive, analytics in rows
    ])
