"""Guided procedures: the template proposed for an incident, its run, and each step's outcome.

A run is a copy of its template taken when it starts, so editing or re-importing a template never
changes a procedure in progress. Every change is journaled in the incident's story.

Lock order, the same as the incident services: the incident's row, then the run's, then the
journal head (taken by ``journal.record`` and held until commit). Taking the incident first means
two writers on the same incident queue up instead of deadlocking.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from controlroom.errors import StateConflict
from controlroom.models import Agency
from controlroom.permissions import require
from incidents.models import Incident, ProcedureRun, ProcedureTemplate, StepRun, Unit
from incidents.models.procedures import END, StepKind
from incidents.selectors import run_progress
from incidents.services.common import incident_record

SYSTEM_ACTOR = "system:procedures"
CHANGE_RUN = "incidents.change_procedurerun"
SKIP_MANDATORY = "incidents.skip_mandatory_step"
NOTE_MAX_LENGTH = StepRun._meta.get_field("note").max_length

ACTIVE = ProcedureRun.Status.ACTIVE
PENDING = StepRun.Status.PENDING


# --- choosing and starting --------------------------------------------------------------------
def template_for(*, incident: Incident) -> ProcedureTemplate | None:
    """The most specific active template of the incident's category.

    A template matches when its sector is empty or the incident's, and its minimum priority is
    empty or the incident is at least that serious (1 is the most serious). A sector match beats
    no sector; then the most serious minimum priority beats a lesser or empty one; remaining ties
    go to the first code in
    alphabetical order.
    """
    sector_matches = Q(sector=None)
    if incident.sector_id is not None:
        sector_matches |= Q(sector_id=incident.sector_id)
    candidates = list(
        ProcedureTemplate.objects.filter(category_id=incident.category_id, active=True)
        .filter(sector_matches)
        .filter(Q(min_priority=None) | Q(min_priority__gte=incident.priority))
        .order_by("code")
    )
    if not candidates:
        return None
    # max() keeps the first of equals, hence the alphabetical tie-break.
    return max(candidates, key=lambda t: (t.sector_id is not None, -(t.min_priority or 5)))


@transaction.atomic
def run_start(*, incident: Incident, by) -> ProcedureRun | None:
    """Start the procedure proposed for the incident; the one in progress is superseded.

    Follows an incident write that was already authorised, so it checks no permission.
    The steps are copied from the template; each deadline counts from the start of the run.
    Returns None when no template matches (the previous run is superseded all the same).
    """
    _incident_lock(incident.pk)
    now = timezone.now()
    in_progress = ProcedureRun.objects.select_for_update().filter(incident=incident, status=ACTIVE)
    for previous in in_progress:
        _run_end(previous, status=ProcedureRun.Status.SUPERSEDED, by=by, now=now)
    template = template_for(incident=incident)
    if template is None:
        return None
    run = ProcedureRun.objects.create(
        incident=incident, template=template, name=template.name, status=ACTIVE, started_at=now
    )
    StepRun.objects.bulk_create(
        StepRun(
            run=run, key=step.key, order=step.order, kind=step.kind, instruction=step.instruction,
            mandatory=step.mandatory, params=step.params, next_if_yes=step.next_if_yes,
            next_if_no=step.next_if_no,
            deadline_at=(None if step.deadline_seconds is None
                         else now + timedelta(seconds=step.deadline_seconds)),
        )
        for step in template.steps.order_by("order")
    )
    steps = list(run.steps.order_by("order"))
    incident_record(
        incident=incident,
        type="procedure.started",
        by=by,
        payload={
            "run": run.pk,
            "template": template.code,
            "name": run.name,
            "step_count": len(steps),
            "steps": [{**_step_payload(s), "deadline_at": s.deadline_at} for s in steps],
            "progress": run_progress(run, now=now),
        },
    )
    return run


# --- acting on steps --------------------------------------------------------------------------
# Steps that act: done means the action was taken (and its evidence kept), or the operator
# said why it was not.
ACTING_KINDS = (StepKind.DISPATCH, StepKind.DEVICE_COMMAND, StepKind.SHOW_CAMERAS,
                StepKind.POPULATION_ALERT)


@transaction.atomic
def step_complete(*, step: StepRun, by, note: str = "", unit: Unit | None = None,
                  reason: str = "", evidence: dict | None = None) -> StepRun:
    """Mark a pending step of an active run done.

    A question is answered, not completed. Completing a "prévenir une agence" step first brings
    the agency (or agencies) into the incident, so their liaisons see the step being done.

    A step that acts is done by acting: a dispatch step by engaging ``unit`` (any available
    unit the operator chose); the device, camera and population-alert steps through the
    services that act (``evidence`` is what they did). Without its action, such a step is done
    only with the ``reason`` why not, kept in the journal and the report.
    """
    require(by, CHANGE_RUN, _("Vous n'avez pas le droit de faire avancer une procédure."))
    if unit is not None:
        if step.kind != StepKind.DISPATCH:
            raise ValidationError({"unit": _("Seule une étape d'engagement engage une unité.")})
        from incidents.services import units as unit_services

        unit_services.unit_assign(incident=step.run.incident, unit=unit, by=by, step=step)
        return StepRun.objects.get(pk=step.pk)
    run, step = _locked(step)
    if step.kind == StepKind.QUESTION:
        raise StateConflict(
            _("Cette étape est une question : répondez par oui ou par non."), field="answer"
        )
    note = _checked_note(note)
    extra = {}
    if step.kind in ACTING_KINDS and not evidence:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _(
                "Cette étape agit : faites-le depuis l'étape (engager l'unité, envoyer la "
                "commande, afficher la caméra, rédiger l'alerte), ou indiquez pourquoi ce "
                "n'est pas fait.")})
        evidence = {"action": "none", "reason": _checked_note(reason, field="reason")}
        extra["without_action"] = True
        extra["reason"] = evidence["reason"]
    if step.kind == StepKind.NOTIFY_AGENCY:
        extra["agencies"] = _agencies_notify(run=run, step=step, by=by)
    if evidence:
        step.evidence = evidence
        extra["evidence"] = evidence
    _step_finish(run, step, status=StepRun.Status.DONE, by=by, note=note, extra=extra)
    _run_complete_if_done(run, by=by)
    return step


@transaction.atomic
def step_skip(*, step: StepRun, by, reason: str) -> StepRun:
    """Pass over a pending step of an active run, saying why.

    Passing over a mandatory step is a supervisor's decision (``incidents.skip_mandatory_step``).
    """
    require(by, CHANGE_RUN, _("Vous n'avez pas le droit de faire avancer une procédure."))
    run, step = _locked(step)
    if step.mandatory:
        require(by, SKIP_MANDATORY, _("Seul un superviseur peut passer une étape obligatoire."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Indiquez pourquoi cette étape est passée.")})
    reason = _checked_note(reason, field="reason")
    _step_finish(run, step, status=StepRun.Status.SKIPPED, by=by, note=reason)
    _run_complete_if_done(run, by=by)
    return step


@transaction.atomic
def step_answer(*, step: StepRun, answer: bool, by, note: str = "") -> StepRun:
    """Answer a pending question of an active run, and follow the branch the answer names.

    Target "end": every later pending step is left out (bypassed). Another step: the pending
    steps strictly between the question and that step are left out. No target: carry on with
    the next step, nothing left out.
    """
    require(by, CHANGE_RUN, _("Vous n'avez pas le droit de faire avancer une procédure."))
    run, step = _locked(step)
    if step.kind != StepKind.QUESTION:
        raise StateConflict(
            _("Seule une question attend une réponse par oui ou par non."), field="answer"
        )
    if not isinstance(answer, bool):
        raise ValidationError({"answer": _("Répondez par oui ou par non.")})
    note = _checked_note(note)
    target = step.next_if_yes if answer else step.next_if_no
    left_out = _steps_left_out(run, question=step, target=target)
    now = timezone.now()
    done_by = None if isinstance(by, str) or by is None else by
    StepRun.objects.filter(pk__in=[s.pk for s in left_out]).update(
        status=StepRun.Status.BYPASSED, done_by=done_by, done_at=now
    )
    step.answer = answer
    _step_finish(
        run, step, status=StepRun.Status.DONE, by=by, note=note, now=now,
        extra={
            "answer": answer,
            "target": target or None,
            "bypassed": [{"step": s.pk, "key": s.key} for s in left_out],
        },
    )
    _run_complete_if_done(run, by=by)
    return step


@transaction.atomic
def steps_complete_for_dispatch(*, incident: Incident, unit: Unit, by, assignment=None,
                                step: StepRun | None = None) -> list[StepRun]:
    """Engaging a unit fulfils the pending dispatch steps of the incident's active run that ask
    for that kind of unit or for any unit; engaged from one step (``step``), that step alone,
    whatever kind it asked for (the operator chose). Follows an authorised dispatch: no
    permission check."""
    _incident_lock(incident.pk)
    run = ProcedureRun.objects.select_for_update().filter(incident=incident, status=ACTIVE).first()
    if run is None:
        return []
    pending = run.steps.filter(status=PENDING, kind=StepKind.DISPATCH).order_by("order")
    if step is not None:
        fulfilled = list(pending.filter(pk=step.pk))
        if not fulfilled:
            raise StateConflict(
                _("L'étape « %(instruction)s » n'est plus à faire.")
                % {"instruction": step.instruction}, field="step")
    else:
        fulfilled = [
            s for s in pending if (s.params or {}).get("unit_kind") in (None, "", unit.kind)
        ]
    note = _("Unité %(call_sign)s engagée") % {"call_sign": unit.call_sign}
    evidence = {"action": "unit_assigned", "unit": unit.pk, "call_sign": unit.call_sign,
                "kind": unit.kind, "agency": unit.agency.name,
                "assignment": assignment.pk if assignment is not None else None}
    for done in fulfilled:
        done.evidence = evidence
        _step_finish(
            run, done, status=StepRun.Status.DONE, by=by, note=note,
            extra={"unit": unit.pk, "call_sign": unit.call_sign, "evidence": evidence},
        )
    if fulfilled:
        _run_complete_if_done(run, by=by)
    return fulfilled


def steps_remind_overdue(*, now: datetime | None = None) -> int:
    """Journal once each pending mandatory step of an active run that is past its deadline.

    Each step is claimed by a conditional update and journaled in its own short transaction, so
    several workers may run this at once: only the one whose claim succeeded journals it.
    Returns how many steps this call reminded.
    """
    now = now or timezone.now()
    due = list(
        StepRun.objects.filter(
            status=PENDING, mandatory=True, run__status=ACTIVE, deadline_at__lt=now,
            reminded_at=None,
        ).order_by("deadline_at", "pk").values_list("pk", "run__incident_id")
    )
    reminded = 0
    for pk, incident_id in due:
        with transaction.atomic():
            _incident_lock(incident_id)
            claimed = StepRun.objects.filter(
                pk=pk, status=PENDING, reminded_at=None, run__status=ACTIVE
            ).update(reminded_at=now)
            if not claimed:
                continue
            step = StepRun.objects.select_related("run__incident").get(pk=pk)
            incident_record(
                incident=step.run.incident,
                type="procedure.step_overdue",
                by=SYSTEM_ACTOR,
                payload={
                    **_step_payload(step),
                    "deadline_at": step.deadline_at,
                    "late_seconds": int((now - step.deadline_at).total_seconds()),
                    "progress": run_progress(step.run, now=now),
                },
            )
            reminded += 1
    return reminded


# --- ending -----------------------------------------------------------------------------------
@transaction.atomic
def run_finish_for_incident(*, incident: Incident, status: str, by) -> ProcedureRun | None:
    """End the incident's procedure in progress as the incident ends: ``completed`` when it is
    closed, ``cancelled`` when it is cancelled. Pending steps stay as they were, a record of what
    was left undone. Follows an authorised incident write: no permission check."""
    if status not in (ProcedureRun.Status.COMPLETED, ProcedureRun.Status.CANCELLED):
        raise ValueError(f"A run ends completed or cancelled, not {status!r}.")
    _incident_lock(incident.pk)
    run = ProcedureRun.objects.select_for_update().filter(incident=incident, status=ACTIVE).first()
    if run is None:
        return None
    _run_end(run, status=status, by=by, now=timezone.now(), extra={"with_incident": True})
    return run


# --- shared steps -----------------------------------------------------------------------------
def _incident_lock(incident_id: int) -> None:
    list(Incident.objects.select_for_update().filter(pk=incident_id).values_list("pk", flat=True))


def _locked(step: StepRun) -> tuple[ProcedureRun, StepRun]:
    """The step's run, locked for the rest of the transaction, and the step as it is now."""
    _incident_lock(ProcedureRun.objects.values_list("incident_id", flat=True).get(pk=step.run_id))
    run = ProcedureRun.objects.select_for_update().get(pk=step.run_id)
    step = StepRun.objects.get(pk=step.pk)
    if run.status != ACTIVE:
        raise StateConflict(
            _("La procédure « %(name)s » est %(status)s : ses étapes ne changent plus.")
            % {"name": run.name, "status": run.get_status_display()},
            field="run",
        )
    if step.status != PENDING:
        raise StateConflict(
            _("L'étape « %(instruction)s » n'est plus à faire (%(status)s).")
            % {"instruction": step.instruction, "status": step.get_status_display()},
        )
    return run, step


def _checked_note(text: str, *, field: str = "note") -> str:
    text = (text or "").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {field: _("%(max)s caractères au plus.") % {"max": NOTE_MAX_LENGTH}}
        )
    return text


def _steps_left_out(run: ProcedureRun, *, question: StepRun, target: str) -> list[StepRun]:
    """The pending steps an answer leading to ``target`` leaves out."""
    if not target:
        return []
    later = list(run.steps.filter(order__gt=question.order).order_by("order"))
    if target != END:
        goal = next((s for s in later if s.key == target), None)
        if goal is None:
            raise StateConflict(
                _("La question « %(instruction)s » renvoie vers l'étape « %(target)s », "
                  "absente de la suite de la procédure.")
                % {"instruction": question.instruction, "target": target},
                field="answer",
            )
        later = [s for s in later if s.order < goal.order]
    return [s for s in later if s.status == PENDING]


def _agencies_notify(*, run: ProcedureRun, step: StepRun, by) -> list[dict]:
    """Bring the agencies the step names into the incident, and journal it."""
    params = step.params or {}
    if params.get("agency"):
        agencies = Agency.objects.filter(code=params["agency"])
    elif params.get("agency_kind"):
        agencies = Agency.objects.filter(kind=params["agency_kind"])
    else:
        agencies = Agency.objects.none()
    listed = [{"id": a.pk, "code": a.code, "name": a.name} for a in agencies.order_by("name")]
    if listed:
        incident = run.incident
        incident.agencies.add(*[a["id"] for a in listed])
        incident_record(
            incident=incident,
            type="incident.agency_notified",
            by=by,
            payload={"agencies": listed, "run": run.pk, "step": step.pk, "key": step.key},
        )
    return listed


def _step_finish(run, step, *, status, by, note="", now=None, extra=None) -> None:
    step.status = status
    step.note = note
    step.done_by = None if isinstance(by, str) or by is None else by
    step.done_at = now or timezone.now()
    step.save(update_fields=["status", "note", "answer", "done_by", "done_at", "evidence"])
    event_type = {
        StepRun.Status.DONE: "procedure.step_answered" if step.answer is not None
        else "procedure.step_done",
        StepRun.Status.SKIPPED: "procedure.step_skipped",
    }[status]
    said = "reason" if status == StepRun.Status.SKIPPED else "note"
    payload = {**_step_payload(step), said: note, **(extra or {})}
    payload["progress"] = run_progress(run)
    incident_record(incident=run.incident, type=event_type, by=by, payload=payload)


def _run_complete_if_done(run: ProcedureRun, *, by) -> bool:
    """Complete the run once no mandatory step is pending (a run without any mandatory step:
    once no step at all is pending). Optional steps still pending stay pending."""
    pending = run.steps.filter(status=PENDING)
    if run.steps.filter(mandatory=True).exists():
        pending = pending.filter(mandatory=True)
    if pending.exists():
        return False
    _run_end(run, status=ProcedureRun.Status.COMPLETED, by=by, now=timezone.now())
    return True


def _run_end(run: ProcedureRun, *, status: str, by, now: datetime, extra=None) -> None:
    run.status = status
    run.finished_at = now
    run.save(update_fields=["status", "finished_at"])
    incident_record(
        incident=run.incident,
        type=f"procedure.{status}",
        by=by,
        payload={
            "run": run.pk,
            "name": run.name,
            "status": status,
            "progress": run_progress(run, now=now),
            **(extra or {}),
        },
    )


def _step_payload(step: StepRun) -> dict:
    return {
        "run": step.run_id,
        "step": step.pk,
        "key": step.key,
        "order": step.order,
        "kind": step.kind,
        "instruction": step.instruction,
        "mandatory": step.mandatory,
        "status": step.status,
    }

