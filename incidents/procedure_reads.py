"""Reads of guided procedures: the active run of an incident and how far it has got."""

from datetime import datetime

from django.utils import timezone

from incidents.models import Incident, ProcedureRun, StepRun


def active_run(incident: Incident) -> ProcedureRun | None:
    """The incident's procedure in progress, if any (at most one, by a database constraint)."""
    return (
        ProcedureRun.objects.filter(incident=incident, status=ProcedureRun.Status.ACTIVE)
        .prefetch_related("steps")
        .first()
    )


def run_progress(run: ProcedureRun, *, now: datetime | None = None) -> dict:
    """Figures for a progress bar.

    ``done`` counts steps done or skipped; ``total`` every step but those a question's answer
    left out (bypassed); ``overdue`` the pending mandatory steps past their deadline;
    ``next_step`` the key of the first pending step by order, while the run is active.
    Uses ``run.steps`` as prefetched when it is.
    """
    now = now or timezone.now()
    steps = sorted(run.steps.all(), key=lambda step: step.order)
    pending = [step for step in steps if step.status == StepRun.Status.PENDING]
    finished = (StepRun.Status.DONE, StepRun.Status.SKIPPED)
    return {
        "done": sum(1 for step in steps if step.status in finished),
        "total": sum(1 for step in steps if step.status != StepRun.Status.BYPASSED),
        "overdue": sum(
            1 for step in pending
            if step.mandatory and step.deadline_at is not None and step.deadline_at < now
        ),
        "next_step": (
            pending[0].key if pending and run.status == ProcedureRun.Status.ACTIVE else None
        ),
    }
