from celery import shared_task

from incidents.services import alerts, procedures


@shared_task(name="incidents.escalate_alerts")
def escalate_alerts() -> int:
    return alerts.alerts_escalate_overdue()


@shared_task(name="incidents.remind_overdue_steps")
def remind_overdue_steps() -> int:
    return procedures.steps_remind_overdue()


@shared_task(name="incidents.advance_exercises")
def advance_exercises() -> int:
    from incidents.services import exercises

    return exercises.exercises_advance()


@shared_task(name="incidents.replay_checkpoints")
def replay_checkpoints() -> int:
    from incidents import replay

    return replay.checkpoints_extend()
