"""A grace period after the checkers start, before silent equipment is called offline.

When the control room restarts, devices and cameras that are fine have not reported to it yet:
their last sign of life is from before the stop. The process that checks heartbeats (the Celery
worker) marks when it started; until ``EQUIPMENT_OFFLINE_GRACE_SECONDS`` have passed since then,
equipment not heard since that moment gets no offline verdict. Equipment heard since the start is
judged as usual. A process that never marks its start (tests, a shell) has no grace period.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

_started_at: datetime | None = None


def mark_started(at: datetime | None = None) -> None:
    global _started_at
    _started_at = at or timezone.now()


def started_at() -> datetime | None:
    return _started_at


def may_judge(last_seen: datetime | None, *, now: datetime) -> bool:
    """Whether equipment last seen at ``last_seen`` may be called offline at ``now``."""
    if _started_at is None or (last_seen is not None and last_seen >= _started_at):
        return True
    return now >= _started_at + timedelta(seconds=settings.EQUIPMENT_OFFLINE_GRACE_SECONDS)
