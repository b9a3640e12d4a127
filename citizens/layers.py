"""The citizens' reports layer of the console map: reports not yet closed, staff only."""

from datetime import timedelta

from django.utils import timezone

from citizens import selectors
from controlroom.layers import IsoUtc, collection, feature

RECENT_DAYS = 30


def reports_layer(*, user) -> dict:
    rows = (
        selectors.reports_for_staff(user=user, status="open")
        .filter(requested_at__gte=timezone.now() - timedelta(days=RECENT_DAYS))
        .order_by()
        .annotate(requested=IsoUtc("requested_at"))
        .values_list("pk", "lat", "lon", "service__code", "service__name", "status", "alert_id",
                     "requested")
    )
    return collection([
        feature("report", pk, lat, lon, {
            "service": code, "service_name": name, "status": status, "alert": alert,
            "requested_at": requested,
        })
        for pk, lat, lon, code, name, status, alert, requested in rows
    ])

