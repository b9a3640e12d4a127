"""How long a device command may take: one attempt, the pauses between attempts, the whole.

With the defaults (5 s to answer, 10 s of grace, 3 attempts, pauses of 2 then 4 s) a command is
final at the latest 61 s after it was queued, whatever was lost on the way.
"""

from django.conf import settings


def attempt_seconds() -> float:
    """How long one attempt may take, answer included, before its worker is deemed lost."""
    return settings.DEVICE_ACK_TIMEOUT_SECONDS + settings.DEVICE_COMMAND_GRACE_SECONDS


def backoff(attempts: int) -> float:
    """The pause after ``attempts`` unanswered attempts: doubled each time."""
    return settings.DEVICE_RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1)


def command_budget() -> float:
    """Seconds from queueing to a final state at the latest: every attempt, the pauses between
    them, and a grace for the queue."""
    attempts = settings.DEVICE_COMMAND_MAX_ATTEMPTS
    return (attempts * attempt_seconds() + sum(backoff(n) for n in range(1, attempts))
            + settings.DEVICE_COMMAND_GRACE_SECONDS)
