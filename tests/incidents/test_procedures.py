"""Guided procedures: choosing the template, running the steps, branching, reminders, agencies."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from controlroom.errors import StateConflict
from controlroom.models import Event
from controlroom.selectors import events_visible_to, viewer_for
from incidents.models import ProcedureRun, StepRun, Unit
from incidents.selectors import active_run, run_progress
from incidents.services.procedures import (
    run_finish_for_incident,
    run_start,
    step_answer,
    step_complete,
    step_skip,
    steps_complete_for_dispatch,
    steps_remind_overdue,
    template_for,
)
from tests.incidents.procedure_setup import (  # noqa: F401 - fixtures
    events,
    incident_for,
    make_template,
    staff_fixture,
    taxonomy_fixture,
    two_sectors_fixture,
)

STEPS = [
    {"key": "codis", "kind": "notify_agency", "deadline": 60, "params": {"agency_kind": "fire"}},
    {"key": "cameras", "kind": "show_cameras", "mandatory": False, "deadline": 30,
     "params": {"count": 3}},
    {"key": "victimes", "kind": "question", "yes": "", "no": "patrouille"},
    {"key": "samu", "kind": "notify_agency", "params": {"agency_kind": "health"}},
    {"key": "ambulance", "kind": "dispatch", "params": {"unit_kind": "ambulance"}},
    {"key": "patrouille", "kind": "dispatch", "deadline": 300,
     "params": {"unit_kind": "patrol_car"}},
    {"key": "fumees", "kind": "question", "yes": "alerte", "no": "end"},
    {"key": "panneau", "kind": "device_command", "mandatory": False,
     "params": {"device_kind": "message_panel", "command": "show",
                "params": {"lines": ["FUMÉES", "FERMEZ LES FENÊTRES"]}}},
    {"key": "alerte", "kind": "population_alert", "params": {"template": "confinement"}},
]


@pytest.fixture
def fire(taxonomy):
    make_template("incendie", taxonomy["incendie"], STEPS)
    return incident_for(taxonomy["incendie"])


def started(incident, by="system:test") -> ProcedureRun:
    return run_start(incident=incident, by=by)


def step(run, key) -> StepRun:
    return StepRun.objects.get(run=run, key=key)


def statuses(run) -> dict:
    return dict(StepRun.objects.filter(run=run).values_list("key", "status"))


# --- choosing the template --------------------------------------------------------------------
@pytest.mark.django_db
def test_it_picks_the_most_specific_active_template(taxonomy, two_sectors):
    fire, other = taxonomy["incendie"], taxonomy["rixe"]
    centre, gresilles = two_sectors["centre-ville"], two_sectors["gresilles"]
    steps = [{"key": "a"}]
    make_template("generic", fire, steps)
    make_template("from-2", fire, steps, min_priority=2)
    make_template("from-1-inactive", fire, steps, min_priority=1, active=False)
    make_template("centre", fire, steps, sector=centre)
    make_template("centre-from-2", fire, steps, sector=centre, min_priority=2)
    make_template("centre-from-1", fire, steps, sector=centre, min_priority=1)

    def chosen(priority, sector=None, category=fire):
        template = template_for(incident=incident_for(category, priority=priority, sector=sector))
        return template and template.code

    assert chosen(3) == "generic"
    assert chosen(2) == "from-2"
    assert chosen(1) == "from-2"  # the priority-1 one is inactive
    assert chosen(3, centre) == "centre"
    assert chosen(2, centre) == "centre-from-2"
    assert chosen(1, centre) == "centre-from-1"
    assert chosen(4, gresilles) == "generic"  # another sector's templates never match
    assert chosen(3, category=other) is None


@pytest.mark.django_db
def test_a_sector_template_beats_a_higher_priority_one(taxonomy, two_sectors):
    fire, centre = taxonomy["incendie"], two_sectors["centre-ville"]
    make_template("from-1", fire, [{"key": "a"}], min_priority=1)
    make_template("centre", fire, [{"key": "a"}], sector=centre)
    incident = incident_for(fire, priority=1, sector=centre)
    assert template_for(incident=incident).code == "centre"


# --- starting ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_starting_copies_the_steps_and_their_deadlines(fire, staff):
    run = started(fire, by=staff["operator"])
    assert run.status == "active" and run.name == "Procédure incendie"
    assert run.template.code == "incendie"
    steps = list(run.steps.order_by("order"))
    assert [s.key for s in steps] == [s["key"] for s in STEPS]
    codis, cameras, victimes = steps[:3]
    assert codis.deadline_at == run.started_at + timedelta(seconds=60)
    assert cameras.deadline_at == run.started_at + timedelta(seconds=30)
    assert victimes.deadline_at is None
    assert (victimes.kind, victimes.next_if_no) == ("question", "patrouille")
    assert codis.params == {"agency_kind": "fire"} and cameras.mandatory is False
    assert all(s.status == "pending" for s in steps)
    [event] = events("procedure.started")
    assert event.actor_id == staff["operator"].pk
    assert event.subject_model == "incident" and event.subject_id == str(fire.pk)
    assert event.payload["run"] == run.pk and event.payload["template"] == "incendie"
    assert event.payload["step_count"] == len(STEPS)
    assert event.payload["progress"] == {"done": 0, "total": 9, "overdue": 0, "next_step": "codis"}


@pytest.mark.django_db
def test_editing_the_template_leaves_the_running_copy_alone(fire):
    run = started(fire)
    run.template.steps.filter(key="codis").update(instruction="Changé", deadline_seconds=5)
    assert step(run, "codis").instruction == "Faire codis"


@pytest.mark.django_db
def test_restarting_supersedes_the_run_in_progress(fire, taxonomy):
    first = started(fire)
    second = started(fire)
    first.refresh_from_db()
    assert first.status == "superseded" and first.finished_at is not None
    assert second.status == "active" and active_run(fire) == second
    [superseded] = events("procedure.superseded")
    assert superseded.payload["run"] == first.pk
    # A category without a template: the run is superseded and none replaces it.
    fire.category = taxonomy["rixe"]
    fire.save()
    assert started(fire) is None
    assert active_run(fire) is None
    assert ProcedureRun.objects.filter(incident=fire, status="superseded").count() == 2


@pytest.mark.django_db
def test_no_template_no_run(taxonomy):
    incident = incident_for(taxonomy["vol"])
    assert started(incident) is None
    assert not Event.objects.filter(type__startswith="procedure.").exists()


# --- acting on steps --------------------------------------------------------------------------
@pytest.mark.django_db
def test_completing_a_step_is_journaled_with_who_and_when(fire, staff):
    run = started(fire)
    operator = staff["operator"]
    done = step_complete(step=step(run, "cameras"), by=operator, note="Caméras 12, 14 et 15",
                         reason="Vues depuis le mur d'images")
    stored = step(run, "cameras")
    assert stored.status == "done" and stored.done_by == operator and stored.done_at
    assert stored.note == "Caméras 12, 14 et 15" and done.pk == stored.pk
    [event] = events("procedure.step_done")
    assert event.actor_id == operator.pk
    assert event.payload == {
        **event.payload,
        "incident": fire.pk, "run": run.pk, "step": stored.pk, "key": "cameras",
        "kind": "show_cameras", "status": "done", "note": "Caméras 12, 14 et 15",
        "instruction": "Faire cameras",
    }
    assert event.payload["progress"] == {"done": 1, "total": 9, "overdue": 0, "next_step": "codis"}


@pytest.mark.django_db
def test_skipping_needs_a_reason_and_is_journaled(fire, staff):
    run = started(fire)
    with pytest.raises(ValidationError) as refused:
        step_skip(step=step(run, "cameras"), by=staff["operator"], reason="  ")
    assert "reason" in refused.value.message_dict
    assert step(run, "cameras").status == "pending"

    step_skip(step=step(run, "cameras"), by=staff["operator"], reason="Caméras en panne")
    assert step(run, "cameras").status == "skipped"
    [event] = events("procedure.step_skipped")
    assert event.actor_id == staff["operator"].pk
    assert event.payload["reason"] == "Caméras en panne" and event.payload["status"] == "skipped"


@pytest.mark.django_db
def test_only_a_supervisor_skips_a_mandatory_step(fire, staff):
    run = started(fire)
    with pytest.raises(PermissionDenied):
        step_skip(step=step(run, "codis"), by=staff["operator"], reason="Déjà prévenu")
    assert step(run, "codis").status == "pending"
    step_skip(step=step(run, "codis"), by=staff["supervisor"], reason="Déjà prévenu par le 112")
    assert step(run, "codis").status == "skipped"
    assert events("procedure.step_skipped")[0].actor_id == staff["supervisor"].pk


@pytest.mark.django_db
@pytest.mark.parametrize("liaison", ["liaison_pn", "liaison_sdis"])
def test_liaisons_do_not_drive_the_procedure(fire, staff, liaison):
    run = started(fire)
    user = staff[liaison]
    with pytest.raises(PermissionDenied):
        step_complete(step=step(run, "cameras"), by=user)
    with pytest.raises(PermissionDenied):
        step_answer(step=step(run, "victimes"), answer=True, by=user)
    with pytest.raises(PermissionDenied):
        step_skip(step=step(run, "cameras"), by=user, reason="Non")
    assert set(statuses(run).values()) == {"pending"}


@pytest.mark.django_db
def test_a_step_is_done_only_once(fire, staff):
    run = started(fire)
    step_complete(step=step(run, "cameras"), by=staff["operator"], reason="Déjà au mur")
    stale = step(run, "cameras")
    for action in (
        lambda: step_complete(step=stale, by=staff["operator"]),
        lambda: step_skip(step=stale, by=staff["supervisor"], reason="Doublon"),
    ):
        with pytest.raises(StateConflict):
            action()
    assert len(events("procedure.step_done")) == 1


@pytest.mark.django_db
def test_questions_are_answered_not_completed(fire, staff):
    run = started(fire)
    with pytest.raises(StateConflict):
        step_complete(step=step(run, "victimes"), by=staff["operator"])
    with pytest.raises(StateConflict):
        step_answer(step=step(run, "cameras"), answer=True, by=staff["operator"])
    with pytest.raises(ValidationError):
        step_answer(step=step(run, "victimes"), answer="oui", by=staff["operator"])
    assert set(statuses(run).values()) == {"pending"}


@pytest.mark.django_db
def test_steps_of_a_finished_run_no_longer_change(fire, staff):
    run = started(fire)
    started(fire)  # supersedes the first run
    with pytest.raises(StateConflict) as refused:
        step_complete(step=step(run, "cameras"), by=staff["operator"])
    assert refused.value.field == "run"


# --- branching --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_no_jumps_to_its_target_leaving_out_the_steps_between(fire, staff):
    run = started(fire)
    step_answer(step=step(run, "victimes"), answer=False, by=staff["operator"], note="Aucune")
    assert statuses(run) == {
        "codis": "pending", "cameras": "pending", "victimes": "done", "samu": "bypassed",
        "ambulance": "bypassed", "patrouille": "pending", "fumees": "pending",
        "panneau": "pending", "alerte": "pending",
    }
    question = step(run, "victimes")
    assert question.answer is False and question.done_by == staff["operator"]
    [event] = events("procedure.step_answered")
    assert event.payload["answer"] is False and event.payload["target"] == "patrouille"
    assert [b["key"] for b in event.payload["bypassed"]] == ["samu", "ambulance"]
    assert event.payload["note"] == "Aucune"
    assert event.payload["progress"]["total"] == 7


@pytest.mark.django_db
def test_an_empty_target_carries_on_with_the_next_step(fire, staff):
    run = started(fire)
    step_answer(step=step(run, "victimes"), answer=True, by=staff["operator"])
    assert "bypassed" not in statuses(run).values()
    assert events("procedure.step_answered")[0].payload["bypassed"] == []


@pytest.mark.django_db
def test_end_leaves_out_every_later_pending_step(fire, staff):
    run = started(fire)
    operator = staff["operator"]
    step_complete(step=step(run, "panneau"), by=operator,  # done early: stays done
                  reason="Panneau déjà allumé par la voirie")
    step_answer(step=step(run, "fumees"), answer=False, by=operator)
    current = statuses(run)
    assert current["panneau"] == "done" and current["alerte"] == "bypassed"
    assert current["patrouille"] == "pending"  # before the question: untouched


@pytest.mark.django_db
def test_a_yes_jumps_forward_to_its_target(fire, staff):
    run = started(fire)
    step_answer(step=step(run, "fumees"), answer=True, by=staff["operator"])
    current = statuses(run)
    assert current["panneau"] == "bypassed" and current["alerte"] == "pending"


@pytest.mark.django_db
def test_a_branch_to_a_missing_step_is_refused(fire, staff):
    run = started(fire)
    StepRun.objects.filter(run=run, key="victimes").update(next_if_no="nowhere")
    with pytest.raises(StateConflict):
        step_answer(step=step(run, "victimes"), answer=False, by=staff["operator"])
    assert step(run, "victimes").status == "pending"


# --- progress and completion ------------------------------------------------------------------
@pytest.mark.django_db
def test_progress_counts_done_skipped_bypassed_and_overdue(fire, staff):
    run = started(fire)
    operator = staff["operator"]
    step_complete(step=step(run, "codis"), by=operator)
    step_skip(step=step(run, "cameras"), by=operator, reason="Pas de caméra ici")
    step_answer(step=step(run, "victimes"), answer=False, by=operator)
    run = active_run(fire)
    assert run_progress(run) == {"done": 3, "total": 7, "overdue": 0, "next_step": "patrouille"}
    # Five minutes on, the patrol (300 s) is late; the cameras (30 s) were skipped.
    five_minutes_on = run.started_at + timedelta(seconds=301)
    assert run_progress(run, now=five_minutes_on)["overdue"] == 1


@pytest.mark.django_db
def test_the_run_completes_when_no_mandatory_step_is_pending(fire, staff):
    run = started(fire)
    operator = staff["operator"]
    step_complete(step=step(run, "codis"), by=operator)
    step_answer(step=step(run, "victimes"), answer=False, by=operator)
    step_complete(step=step(run, "patrouille"), by=operator, reason="Patrouille déjà sur place")
    assert active_run(fire) == run
    step_answer(step=step(run, "fumees"), answer=False, by=operator)  # ends the procedure
    run.refresh_from_db()
    assert run.status == "completed" and run.finished_at is not None
    [event] = events("procedure.completed")
    assert event.actor_id == operator.pk and event.payload["run"] == run.pk
    # Optional steps left undone stay as they were, and can no longer change.
    assert step(run, "cameras").status == "pending"
    with pytest.raises(StateConflict):
        step_complete(step=step(run, "cameras"), by=operator)
    assert run_progress(run)["next_step"] is None


@pytest.mark.django_db
def test_a_run_of_optional_steps_completes_when_none_is_pending(taxonomy, staff):
    make_template("conseils", taxonomy["vol"], [
        {"key": "a", "mandatory": False}, {"key": "b", "mandatory": False}])
    run = started(incident_for(taxonomy["vol"]))
    step_complete(step=step(run, "a"), by=staff["operator"])
    assert ProcedureRun.objects.get(pk=run.pk).status == "active"
    step_skip(step=step(run, "b"), by=staff["operator"], reason="Inutile")
    assert ProcedureRun.objects.get(pk=run.pk).status == "completed"


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_the_run_ends_with_its_incident(fire, staff, status):
    run = started(fire)
    assert run_finish_for_incident(incident=fire, status=status, by=staff["supervisor"]) == run
    run.refresh_from_db()
    assert run.status == status and run.finished_at is not None
    [event] = events(f"procedure.{status}")
    assert event.actor_id == staff["supervisor"].pk and event.payload["with_incident"] is True
    assert step(run, "codis").status == "pending"
    assert run_finish_for_incident(incident=fire, status=status, by="system:test") is None


# --- dispatch and agencies --------------------------------------------------------------------
@pytest.mark.django_db
def test_engaging_a_unit_completes_the_matching_dispatch_steps(taxonomy, agencies):
    make_template("accident", taxonomy["accident_circulation"], [
        {"key": "ambulance", "kind": "dispatch", "params": {"unit_kind": "ambulance"}},
        {"key": "patrouille", "kind": "dispatch", "params": {"unit_kind": "patrol_car"}},
        {"key": "renfort", "kind": "dispatch", "mandatory": False},
        {"key": "constat", "kind": "note"},
    ])
    incident = incident_for(taxonomy["accident_circulation"])
    run = started(incident)
    unit = Unit.objects.create(call_sign="PM-12", kind="patrol_car", agency=agencies["pm"])
    done = steps_complete_for_dispatch(incident=incident, unit=unit, by="system:test")
    assert [s.key for s in done] == ["patrouille", "renfort"]
    assert statuses(run) == {"ambulance": "pending", "patrouille": "done", "renfort": "done",
                             "constat": "pending"}
    assert step(run, "patrouille").note == "Unité PM-12 engagée"
    assert [e.payload["key"] for e in events("procedure.step_done")] == ["patrouille", "renfort"]
    assert steps_complete_for_dispatch(incident=incident, unit=unit, by="system:test") == []


@pytest.mark.django_db
def test_notifying_an_agency_lets_its_liaison_follow_the_procedure(fire, staff, agencies):
    run = started(fire)
    sdis = viewer_for(staff["liaison_sdis"])
    assert not events_visible_to(viewer=sdis).filter(subject_id=str(fire.pk)).exists()
    step_complete(step=step(run, "codis"), by=staff["operator"], note="CODIS prévenu à 22 h 14")
    assert agencies["sdis"] in fire.agencies.all()
    seen = [e.type for e in events_visible_to(viewer=sdis).filter(subject_id=str(fire.pk))]
    assert seen == ["incident.agency_notified", "procedure.step_done"]
    [notified] = events("incident.agency_notified")
    assert notified.payload["agencies"] == [
        {"id": agencies["sdis"].pk, "code": "sdis", "name": "Sapeurs-pompiers"}]
    step_done = events("procedure.step_done")[0]
    assert step_done.payload["agencies"] == notified.payload["agencies"]
    # The national police is not involved: its liaison still sees nothing.
    pn = viewer_for(staff["liaison_pn"])
    assert not events_visible_to(viewer=pn).filter(subject_id=str(fire.pk)).exists()


@pytest.mark.django_db
def test_an_agency_can_be_named_by_its_code(taxonomy, staff, agencies):
    make_template("intrusion", taxonomy["intrusion"], [
        {"key": "pn", "kind": "notify_agency", "params": {"agency": "pn"}}])
    incident = incident_for(taxonomy["intrusion"])
    run = started(incident)
    step_complete(step=step(run, "pn"), by=staff["operator"])
    assert list(incident.agencies.all()) == [agencies["pn"]]


# --- overdue reminders ------------------------------------------------------------------------
@pytest.mark.django_db
def test_overdue_mandatory_steps_are_reminded_once(fire, staff):
    run = started(fire)
    step_complete(step=step(run, "codis"), by=staff["operator"])  # done in time: no reminder
    late = run.started_at + timedelta(seconds=301)
    # codis is done and cameras optional: only the patrol (300 s) is overdue.
    assert steps_remind_overdue(now=late) == 1
    assert steps_remind_overdue(now=late) == 0  # a second worker, or the next beat
    [event] = events("procedure.step_overdue")
    assert event.actor_label == "system:procedures" and event.actor_id is None
    assert event.payload["key"] == "patrouille" and event.payload["late_seconds"] == 1
    assert event.payload["progress"]["overdue"] == 1
    assert step(run, "patrouille").reminded_at == late
    assert steps_remind_overdue(now=late + timedelta(hours=1)) == 0


@pytest.mark.django_db
def test_no_reminder_before_the_deadline_or_for_finished_runs(fire):
    run = started(fire)
    assert steps_remind_overdue(now=run.started_at + timedelta(seconds=59)) == 0
    run_finish_for_incident(incident=fire, status="cancelled", by="system:test")
    assert steps_remind_overdue(now=run.started_at + timedelta(hours=1)) == 0


@pytest.mark.django_db
def test_a_step_claimed_by_another_worker_is_not_reminded_again(fire, monkeypatch):
    """Worker A lists the overdue steps; worker B claims them before A gets to them."""
    from incidents.services import procedures

    run = started(fire)
    late = run.started_at + timedelta(hours=1)
    lock = procedures._incident_lock

    def worker_b_claims_first(incident_id):
        StepRun.objects.filter(run__incident_id=incident_id).update(reminded_at=late)
        lock(incident_id)

    monkeypatch.setattr(procedures, "_incident_lock", worker_b_claims_first)
    assert steps_remind_overdue(now=late) == 0
    assert not events("procedure.step_overdue")


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_remind_each_step_once(needs_postgres, taxonomy):
    steps = [{"key": f"s{i}", "deadline": 1} for i in range(12)]
    make_template("urgent", taxonomy["incendie"], steps)
    for _ in range(3):
        started(incident_for(taxonomy["incendie"]))
    late = ProcedureRun.objects.first().started_at + timedelta(hours=1)
    counts, errors = [], []

    def worker():
        try:
            counts.append(steps_remind_overdue(now=late))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(counts) == 36
    assert Event.objects.filter(type="procedure.step_overdue").count() == 36
