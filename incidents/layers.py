"""The incidents app's map layers as GeoJSON, scoped like the selectors they read from."""

from django.db.models.fields.json import KT

from controlroom.layers import IsoUtc, collection, feature
from incidents import selectors
from incidents.models import Alert, Incident


def incidents_layer(*, user) -> dict:
    """Open incidents (and resolved ones not yet closed)."""
    rows = (
        selectors.incidents_visible_to(user=user)
        .filter(status__in=[*Incident.OPEN_STATUSES, Incident.Status.RESOLVED])
        .order_by()
        .annotate(created=IsoUtc("created_at"))
        .values_list("pk", "lat", "lon", "title", "priority", "status", "category__code",
                     "category__label", "category__domain", "created", "created_at__year",
                     "exercise_id")
    )
    return collection([
        feature("incident", pk, lat, lon, {
            "title": title, "priority": priority, "status": status, "category": code,
            "category_label": label, "domain": domain, "created_at": created,
            "reference": f"INC-{year}-{pk:06d}", "exercise": exercise,
        })
        for pk, lat, lon, title, priority, status, code, label, domain, created, year, exercise
        in rows
    ])


def units_layer(*, user) -> dict:
    rows = (
        selectors.units_visible_to(user=user)
        .filter(active=True, lat__isnull=False)
        .order_by()
        .annotate(position=IsoUtc("position_at"))
        .values_list("pk", "lat", "lon", "call_sign", "kind", "status", "agency__name", "position")
    )
    return collection([
        feature("unit", pk, lat, lon, {
            "call_sign": call_sign, "unit_kind": kind, "status": status, "agency": agency,
            "position_at": position_at,
        })
        for pk, lat, lon, call_sign, kind, status, agency, position_at in rows
    ])


def alerts_layer(*, user) -> dict:
    """Alerts still waiting for an operator (new or acknowledged, not yet handled)."""
    rows = (
        selectors.alerts_visible_to(user=user)
        .filter(status__in=Alert.OPEN_STATUSES)
        .order_by()
        .annotate(received=IsoUtc("received_at"), escalated=IsoUtc("escalated_at"),
                  snapshot=KT("evidence__snapshot_url"), radius=KT("evidence__radius_m"))
        .values_list("pk", "lat", "lon", "title", "severity", "status", "source",
                     "category__code", "received", "repeat_count", "escalated", "snapshot",
                     "radius", "exercise_id", "source_count")
    )
    return collection([
        feature("alert", pk, lat, lon, {
            "title": title, "severity": severity, "status": status, "source": source,
            "category": code, "received_at": received_at, "repeat_count": count,
            "source_count": sources,
            "escalated_at": escalated_at, "snapshot_url": snapshot,
            # A sound located by several sensors: its uncertainty radius (m).
            "radius_m": float(radius) if radius else None,
            "exercise": exercise,
        })
        for pk, lat, lon, title, severity, status, source, code, received_at, count, escalated_at,
        snapshot, radius, exercise, sources in rows
    ])
