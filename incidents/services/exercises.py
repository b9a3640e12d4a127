"""Exercises: play a scenario on the live console, score the trainees, purge it all.

Everything an exercise creates carries it (alerts, the incidents opened from them, its units,
population alerts drafted on them): consoles show an "EXERCICE" banner on them; device
commands, the CAP feed, population alert notifications and statistics leave them out; units of
the exercise answer only its incidents. ``exercise_advance`` (run by Celery beat every few
seconds, or by hand) plays the steps that are due; ``exercise_purge`` deletes what the exercise
created once it is finished, the journal keeping its story.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from controlroom import journal
from controlroom.errors import StateConflict
from controlroom.models import Agency
from controlroom.permissions import require
from incidents.models import Alert, Assignment, Category, Exercise, Incident, ProcedureRun, Unit
from incidents.scenarios import Scenario, ScenarioError
from incidents.scenarios import load as load_scenario
from incidents.services import alerts as alert_services
from incidents.services import units as unit_services

RUN = "incidents.run_exercise"
ACTOR = "system:exercise"


def _record(exercise: Exercise, type: str, by, **payload):
    return journal.record(type=type, subject=exercise, actor=by,
                          payload={"exercise": exercise.pk, "name": exercise.name, **payload})


@transaction.atomic
def exercise_start(*, by, scenario: str | Scenario, speed: float = 1.0) -> Exercise:
    """Start playing a scenario: its units are created (flagged), its first steps play."""
    require(by, RUN, "Seul un formateur (superviseur) lance un exercice.")
    if not 0.1 <= speed <= 60:
        raise ValidationError({"speed": ["La vitesse va de 0,1 à 60."]})
    try:
        plan = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    except ScenarioError as error:
        raise ValidationError({"scenario": error.problems}) from None
    exercise = Exercise.objects.create(
        scenario=plan.code, name=plan.name, speed=speed, steps=plan.steps,
        started_by=None if isinstance(by, str) else by, started_at=timezone.now())
    _record(exercise, "exercise.started", by, scenario=plan.code, speed=speed,
            steps=len(plan.steps))
    agency = Agency.objects.filter(operates_control_room=True).order_by("pk").first()
    if agency is None:
        raise StateConflict("Aucune agence n'exploite le poste : créez-la avant un exercice.")
    for spec in plan.units:
        unit_services.unit_create(by=ACTOR, call_sign=_call_sign(exercise, spec["call_sign"]),
                                  kind=spec["kind"],
                                  agency=agency, lat=spec["point"][0], lon=spec["point"][1],
                                  exercise=exercise)
    exercise_advance(exercise=exercise, now=exercise.started_at)
    exercise.refresh_from_db()
    return exercise


def _call_sign(exercise: Exercise, name: str) -> str:
    """Call signs are unique: an exercise's units carry its number (EX-PM-1-12)."""
    return f"{name}-{exercise.pk}"[:40]


def _play(exercise: Exercise, step: dict, index: int) -> None:
    lat, lon = step["point"] or (None, None)
    if step["kind"] == "unit_move":
        unit = Unit.objects.get(exercise=exercise, call_sign=_call_sign(exercise, step["unit"]))
        unit_services.unit_position_report(unit=unit, lat=lat, lon=lon, by=ACTOR)
        return
    evidence = {"exercise": exercise.pk, "scenario": exercise.scenario, "step": index}
    for key in ("device", "metric", "value", "camera", "rule", "text"):
        if key in step:
            evidence[key] = step[key]
    alert_services.alert_receive(
        by=ACTOR, source=step["source"], category=Category.objects.get(code=step["category"]),
        title=step["title"], lat=lat, lon=lon, severity=step["severity"], evidence=evidence,
        source_system=f"exercise-{exercise.pk}", source_ref=f"step-{index}", exercise=exercise)


def exercise_advance(*, exercise: Exercise, now: datetime | None = None) -> int:
    """Play the steps whose time has come (time runs ``speed`` times faster); how many."""
    now = now or timezone.now()
    played = 0
    with transaction.atomic():
        exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
        if not exercise.is_running:
            return 0
        elapsed = (now - exercise.started_at).total_seconds() * exercise.speed
        while exercise.cursor < len(exercise.steps) \
                and exercise.steps[exercise.cursor]["at"] <= elapsed:
            _play(exercise, exercise.steps[exercise.cursor], exercise.cursor)
            exercise.cursor += 1
            played += 1
        if played:
            exercise.save(update_fields=["cursor"])
    return played


def exercises_advance(*, now: datetime | None = None) -> int:
    return sum(exercise_advance(exercise=exercise, now=now)
               for exercise in Exercise.objects.filter(status=Exercise.Status.RUNNING))


@transaction.atomic
def exercise_finish(*, exercise: Exercise, by) -> Exercise:
    require(by, RUN, "Seul un formateur termine un exercice.")
    exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
    if not exercise.is_running:
        raise StateConflict("Cet exercice est déjà terminé.")
    exercise.status = Exercise.Status.FINISHED
    exercise.finished_at = timezone.now()
    exercise.save(update_fields=["status", "finished_at"])
    _record(exercise, "exercise.finished", by, played=exercise.cursor,
            steps=len(exercise.steps))
    return exercise


@transaction.atomic
def exercise_purge(*, exercise: Exercise, by) -> dict:
    """Delete what a finished exercise created; the journal keeps its story."""
    from devices.models import PopulationAlert

    require(by, RUN, "Seul un formateur purge un exercice.")
    exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
    if exercise.status != Exercise.Status.FINISHED:
        raise StateConflict("Terminez l'exercice avant de le purger.")
    incidents = Incident.objects.filter(exercise=exercise)
    # Replay takes the purged objects out of its picture from these ids (one event, applied).
    removed = {
        "alerts": sorted(Alert.objects.filter(exercise=exercise).values_list("pk", flat=True)),
        "incidents": sorted(incidents.values_list("pk", flat=True)),
        "units": sorted(Unit.objects.filter(exercise=exercise).values_list("pk", flat=True)),
    }
    counts = {
        "population_alerts": PopulationAlert.objects.filter(exercise=exercise).delete()[0],
        "assignments": Assignment.objects.filter(incident__in=incidents).delete()[0],
    }
    Alert.objects.filter(exercise=exercise).update(incident=None)
    counts["alerts"] = Alert.objects.filter(exercise=exercise).delete()[0]
    counts["incidents"] = incidents.delete()[0]
    counts["units"] = Unit.objects.filter(exercise=exercise).delete()[0]
    exercise.status = Exercise.Status.PURGED
    exercise.purged_at = timezone.now()
    exercise.save(update_fields=["status", "purged_at"])
    _record(exercise, "exercise.purged", by, deleted=counts, removed=removed)
    return counts


# --- the trainer's view -----------------------------------------------------------------------
def exercise_scores(exercise: Exercise, *, now: datetime | None = None) -> dict:
    """How the trainees did: per incident, the response times and the procedure's steps done
    on time, late or missed against their deadlines; per trainee, what they did and how fast.
    The score is the share of mandatory steps done on time, over all the exercise's incidents."""
    from incidents import reports

    now = now or timezone.now()
    rows, on_time, mandatory = [], 0, 0
    trainees: dict[str, dict] = {}
    for incident in Incident.objects.filter(exercise=exercise).select_related("category"):
        events = reports.story(incident)
        runs = reports.compliance(incident, now)
        steps = [s for run in runs if run["run"].status != ProcedureRun.Status.SUPERSEDED
                 for s in run["steps"]]
        done_on_time = sum(1 for s in steps if s["step"].mandatory and not s["late"]
                           and s["step"].status == "done")
        required = sum(1 for s in steps if s["step"].mandatory
                       and s["step"].status != "bypassed")
        on_time += done_on_time
        mandatory += required
        rows.append({"incident": incident, "delays": reports.response_times(incident, events),
                     "late": [s for s in steps if s["late"]],
                     "missed": [s for s in steps if s["step"].mandatory
                                and s["step"].status in ("pending", "skipped")],
                     "on_time": done_on_time, "required": required})
        for s in steps:
            if s["by"]:
                person = trainees.setdefault(s["by"], {"steps": 0, "late": 0, "acknowledged": 0,
                                                       "ack_seconds": []})
                person["steps"] += 1
                person["late"] += s["late"]
    for alert in Alert.objects.filter(exercise=exercise).exclude(acknowledged_by=None) \
            .select_related("acknowledged_by"):
        person = trainees.setdefault(alert.acknowledged_by.get_username(),
                                     {"steps": 0, "late": 0, "acknowledged": 0,
                                      "ack_seconds": []})
        person["acknowledged"] += 1
        if alert.ack_delay_seconds is not None:
            person["ack_seconds"].append(alert.ack_delay_seconds)
    for person in trainees.values():
        delays = sorted(person.pop("ack_seconds"))
        person["median_ack_seconds"] = delays[len(delays) // 2] if delays else None
    alerts = Alert.objects.filter(exercise=exercise)
    return {
        "exercise": exercise, "incidents": rows,
        "score": round(100 * on_time / mandatory) if mandatory else None,
        "on_time": on_time, "mandatory": mandatory,
        "alerts": alerts.count(),
        "alerts_unhandled": alerts.filter(status__in=Alert.OPEN_STATUSES).count(),
        "trainees": dict(sorted(trainees.items())),
        "elapsed": timedelta(seconds=round(
            ((exercise.finished_at or now) - exercise.started_at).total_seconds())),
    }
