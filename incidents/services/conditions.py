"""Alerts about a lasting condition of the city's equipment (a device or a camera offline).

A condition has one open alert at a time, whatever its age: raising it again counts once more on
that alert (across restarts of the control room too), and the alert is resolved, journaled, when
the condition ends. Unlike an operator's dismissal, a resolution acknowledges nothing: the
acknowledgement delay kept for statistics stays an operator's.
"""

from django.db import transaction
from django.utils import timezone

from controlroom import journal
from incidents.models import Alert
from incidents.services import alerts as alert_services
from incidents.services.alerts import Received, _count_again, _record


def _open_alert(key: str, source: str) -> Alert | None:
    # Scoped to the emitter, as alert_receive's deduplication: no partner reaches these alerts.
    return (Alert.objects.select_for_update()
            .filter(dedup_key=key, source=source, source_system="",
                    status__in=Alert.OPEN_STATUSES, exercise=None)
            .order_by("-last_seen_at").first())


@transaction.atomic
def condition_alert_raise(*, by, key: str, source: str, severity: int = 3,
                          evidence: dict | None = None, **alert) -> Received:
    """The condition ``key`` holds: count it again on its open alert, or raise a new one.

    ``alert`` holds ``alert_receive``'s other arguments (category, title, lat, lon).
    """
    existing = _open_alert(key, source)
    if existing is None:
        return alert_services.alert_receive(by=by, source=source, severity=severity,
                                            evidence=evidence, dedup_key=key, **alert)
    return Received(_count_again(existing, by=by, severity=severity, now=timezone.now(),
                                 source_ref="", condition=key, evidence=evidence or {}),
                    created=False)


@transaction.atomic
def condition_alert_resolve(*, by, key: str, source: str, note: str) -> Alert | None:
    """The condition ``key`` has ended: its open alert, if any, is closed and journaled."""
    alert = _open_alert(key, source)
    if alert is None:
        return None
    alert.status = Alert.Status.DISMISSED
    alert.dismiss_reason = Alert.DismissReason.ALREADY_HANDLED
    alert.dismiss_note = note[:500]
    alert.closed_at = timezone.now()
    alert.save(update_fields=["status", "dismiss_reason", "dismiss_note", "closed_at"])
    _record(alert, "alert.resolved", by, reason=alert.dismiss_reason, note=alert.dismiss_note,
            condition=key)
    return alert


def went_offline(instance, *, by, event_type: str, payload, key: str, source: str,
                 **alert) -> bool:
    """Mark ``instance`` (a model with an ``online`` flag) offline, journal ``event_type`` with
    ``payload(instance)`` and raise the condition's alert (``condition_alert_raise``'s
    arguments), all at once; False when it was no longer online (another checker was first)."""
    with transaction.atomic():
        if not type(instance).objects.filter(pk=instance.pk, online=True).update(online=False):
            return False
        instance.online = False
        journal.record(type=event_type, subject=instance, actor=by, payload=payload(instance))
        condition_alert_raise(by=by, key=key, source=source, **alert)
    return True
