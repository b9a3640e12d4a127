import logging

from celery import shared_task
from django.db import transaction

from controlroom import journal

logger = logging.getLogger(__name__)


@shared_task(name="controlroom.verify_journal", ignore_result=False)
def verify_journal() -> dict:
    """Periodic integrity check; a broken chain is itself journaled so supervisors see it."""
    checked, problem = journal.verify_chain()
    if not problem:
        journal.anchor_head()
    if problem:
        logger.error("Journal integrity check failed: %s", problem)
        with transaction.atomic():
            journal.record(
                type="journal.integrity_failed",
                actor="system:journal-check",
                payload={"seq": problem.seq, "reason": problem.reason, "checked": checked},
            )
    return {"checked": checked, "ok": problem is None, "problem": str(problem) if problem else None}


@shared_task(name="controlroom.anchor_journal", ignore_result=True)
def anchor_journal() -> None:
    """Checkpoint the journal's head outside the database, so a cut tail cannot go unnoticed."""
    journal.anchor_head()
