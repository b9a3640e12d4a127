"""The reconciler of device commands, run by the beat (``devices.reconcile_commands``).

A command on its way to a device can be stranded: its task message lost (a broker restarted
empty, a worker that never came) or its worker killed while it waited for the answer. Every
queued command has a ``check_at`` and a ``deadline`` (``devices/deadlines.py``); past them, the
reconciler steps in, each command under its row lock:

- past its deadline: ended ``timed_out``, with an alert;
- sent, but its attempt overran (its worker was lost): the attempt counts as unanswered, and the
  command is sent again (``retrying``), or ended ``timed_out`` after the last attempt;
- queued or waiting for a retry, but nobody took it: queued again.

Sending again is harmless: the command keeps its id, so a device that hears it twice acts once,
and an attempt is claimed under the row lock, so two task messages never send it at once. Every
step is journaled, hence shown live.
"""

from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from devices.models import Command
from devices.services import commands as command_services

WORKER_LOST = "L'envoi a été interrompu (worker arrêté) ; la commande est renvoyée."


def commands_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Move on every stranded command; returns how many were ended, sent or queued again."""
    now = now or timezone.now()
    stranded = (Command.objects.filter(status__in=Command.UNDER_WAY)
                .filter(Q(check_at__lte=now) | Q(deadline__lte=now))
                .order_by("pk").values_list("pk", flat=True))
    done = Counter()
    for pk in stranded:
        with transaction.atomic():
            # A command a worker holds right now is that worker's: skipped, seen next time.
            command = (Command.objects.select_for_update(skip_locked=True)
                       .select_related("device").filter(pk=pk).first())
            if command is not None and command.status in Command.UNDER_WAY:
                done[_reconcile(command, now)] += 1
    return dict(done)


def _reconcile(command: Command, now: datetime) -> str:
    lost = command.status == Command.Status.SENT and command.check_at <= now
    last = command.attempts >= settings.DEVICE_COMMAND_MAX_ATTEMPTS
    if (command.deadline is not None and command.deadline <= now) or (lost and last):
        reason = command_services.NO_ANSWER if command.attempts else command_services.NOT_SENT
        command_services.command_finish(command, Command.Status.TIMED_OUT, reason)
        return "timed_out"
    if lost:
        command_services.command_retry_later(command, error=WORKER_LOST, delay=0, enqueue=True)
        return "sent_again"
    if command.check_at is None or command.check_at > now:
        return "untouched"
    command_services.command_requeue(command)
    return "queued_again"
