"""The devices layer of the console map."""

from controlroom.layers import collection, feature
from devices import selectors


def devices_layer(*, user) -> dict:
    rows = (
        selectors.devices_visible_to(user=user)
        .filter(active=True)
        .order_by()
        .values_list("pk", "lat", "lon", "code", "name", "kind", "online", "state")
    )
    return collection([
        feature("device", pk, lat, lon, {
            "code": code, "name": name, "device_kind": kind, "online": online, "state": state,
        })
        for pk, lat, lon, code, name, kind, online, state in rows
    ])
