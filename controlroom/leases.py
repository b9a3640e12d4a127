"""Analysis loops over streams (cameras, sound sensors): who analyses what, and when a failing
stream is tried again.

A loop runs in bounded windows on a worker queue. Whoever holds a row's lease analyses it until
``lease_until``; a worker that dies loses its lease after one window and the beat starts the row
again. The model needs the fields ``enabled``, ``lease_token``, ``lease_until``, ``failures``,
``retry_at`` and ``last_error``.
"""

import multiprocessing
import secrets
import threading
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

MARGIN_SECONDS = 30  # a window may start late (queue) or end late (last frame, writes)
# Set when this worker shuts down (controlroom/celery.py): its running windows end at their next
# lease check, releasing their leases, so that a stop does not wait for a whole window. Created
# before the worker forks its pool, so its pool processes see it too.
try:
    stopping = multiprocessing.Event()
except OSError:  # no POSIX semaphores here (some sandboxes): this process's own windows only
    stopping = threading.Event()


def extend(model: type[models.Model], *, pk: int, token: str, seconds: float,
           now: datetime | None = None) -> bool:
    """Hold (or keep) the right to analyse row ``pk`` for ``seconds`` more.

    Granted to the token that holds the lease, or to anyone once it has run out; refused for a
    row out of service. Two workers can never analyse the same stream at once. Refused to a
    process that is stopping.
    """
    if stopping.is_set():
        return False
    now = now or timezone.now()
    until = now + timedelta(seconds=max(0.0, seconds) + MARGIN_SECONDS)
    free = Q(lease_token=token) | Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(model.objects.filter(free, pk=pk, enabled=True)
                .update(lease_token=token, lease_until=until))


def release(model: type[models.Model], *, pk: int, token: str) -> None:
    model.objects.filter(pk=pk, lease_token=token).update(lease_token="", lease_until=None)


def candidates(model: type[models.Model], *, now: datetime) -> models.QuerySet:
    """Enabled rows nobody analyses (never started, stopped, or whose worker was lost), whose
    retry delay is over."""
    return (model.objects.filter(enabled=True)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now)))


def due(model: type[models.Model], *, seconds: float, now: datetime | None = None,
        pks=None) -> list[tuple[int, str]]:
    """Leases for the rows to start (``pks`` narrows ``candidates``), each with a fresh token to
    hand to a new analysis loop."""
    now = now or timezone.now()
    if pks is None:
        pks = candidates(model, now=now).values_list("pk", flat=True)
    started = []
    for pk in pks:
        token = secrets.token_hex(16)
        if extend(model, pk=pk, token=token, seconds=seconds, now=now):
            started.append((pk, token))
    return started


def retry_delay(failures: int, backoff: tuple[float, ...]) -> float:
    backoff = backoff or (30.0,)
    return backoff[min(max(failures, 1), len(backoff)) - 1]


def failed(model: type[models.Model], *, pk: int, error: str, backoff: tuple[float, ...],
           now: datetime | None = None):
    """The stream could not be read: release the lease and try again later, each time a little
    later. Returns the row (with its new failure count) and the delay; call inside a
    transaction to journal it with the change."""
    now = now or timezone.now()
    with transaction.atomic():
        row = model.objects.select_for_update().get(pk=pk)
        row.failures += 1
        delay = retry_delay(row.failures, backoff)
        row.retry_at = now + timedelta(seconds=delay)
        row.last_error = error[:300]
        row.lease_token, row.lease_until = "", None
        model.objects.filter(pk=pk).update(
            failures=row.failures, retry_at=row.retry_at, last_error=row.last_error,
            lease_token="", lease_until=None)
    return row, delay
