"""Exercise mode: scenarios, what playing one creates, its isolation from reality, the
trainer's scores, and the purge."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from controlroom.errors import StateConflict
from controlroom.models import Event
from devices.models import AlertRecipient, Command, Device, PopulationAlert
from devices.services import commands as device_commands
from devices.services import population
from incidents import scenarios, selectors
from incidents.models import Alert, Exercise, Incident, StepRun, Unit
from incidents.services import alerts as alert_services
from incidents.services import exercises
from incidents.services import procedures as procedure_services
from incidents.services import units as unit_services
from tests.devices.test_population_alerts import draft

pytestmark = pytest.mark.django_db

T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def at(seconds: float):
    return time_machine.travel(T0 + timedelta(seconds=seconds), tick=False)


@pytest.fixture
def room(city, categories, people, agencies):
    from demo.procedures import load_demo_procedures

    load_demo_procedures()
    return people


def test_the_shipped_scenarios_are_valid(room):
    found = scenarios.available()
    assert {"nuit-festive", "crue-ouche"} <= set(found)
    for code in found:
        plan = scenarios.load(code)
        assert plan.units and len(plan.steps) >= 6 and plan.duration >= 300
        assert {s["kind"] for s in plan.steps} >= {"camera_event", "sensor", "citizen_report",
                                                   "unit_move"}


def test_a_bad_scenario_is_refused_with_every_problem(room):
    text = """
code: essai
name: Essai
units: [{call_sign: EX-1, kind: tank, place: lune}]
timeline:
  - at: -5
    alert: {category: rixe, title: x, place: darcy}
  - at: 10
    sensor: {category: inconnue, place: darcy}
  - at: 20
    unit_move: {unit: EX-9, place: darcy}
"""
    with pytest.raises(scenarios.ScenarioError) as error:
        scenarios.parse(text)
    problems = " | ".join(error.value.problems)
    for expected in ("type d'unité inconnu « tank »", "lieu inconnu « lune »", "« at »",
                     "catégorie inconnue « inconnue »", "« title » manquant",
                     "unité « EX-9 » absente"):
        assert expected in problems, expected
    with pytest.raises(ValidationError):
        exercises.exercise_start(by=room["supervisor"], scenario="n-existe-pas")
    assert not Exercise.objects.exists()


def test_playing_a_scenario_flags_everything_it_creates(room):
    with at(0):
        exercise = exercises.exercise_start(by=room["supervisor"], scenario="nuit-festive")
    assert exercise.cursor == 1  # the step at 0 s is played at once
    units = Unit.objects.filter(exercise=exercise)
    assert sorted(units.values_list("call_sign", flat=True)) == [
        f"EX-PM-1-{exercise.pk}", f"EX-PM-2-{exercise.pk}", f"EX-VTT-1-{exercise.pk}"]
    first = Alert.objects.get()
    assert first.exercise == exercise and first.source == "camera"
    assert first.evidence["camera"] == "cam-republique"
    with at(100):
        assert exercises.exercises_advance() == 2  # the bike unit moves, the sound level
    vtt = units.get(call_sign__startswith="EX-VTT-1")
    assert (round(vtt.lat, 4), round(vtt.lon, 4)) == (47.3268, 5.0455)
    with at(10_000):
        exercises.exercise_advance(exercise=exercise)
    exercise.refresh_from_db()
    assert exercise.cursor == len(exercise.steps)
    alerts = Alert.objects.filter(exercise=exercise)
    assert alerts.count() == 5 and not Alert.objects.filter(exercise=None).exists()
    assert set(alerts.values_list("source", flat=True)) == {"camera", "sensor", "citizen",
                                                            "partner"}
    # The journal says it, and consoles learn it from each alert's event.
    assert Event.objects.filter(type="exercise.started").exists()
    received = Event.objects.filter(type="alert.received")
    assert all(e.payload["exercise"] == exercise.pk for e in received)


def test_exercise_and_reality_never_mix(room, make_unit, make_incident):
    operator, supervisor = room["operator"], room["supervisor"]
    real_unit = make_unit("PM 1")
    with at(0):
        exercise = exercises.exercise_start(by=supervisor, scenario="crue-ouche")
    alert = Alert.objects.get(exercise=exercise)
    with at(30):
        alert_services.alert_acknowledge(alert=alert, by=operator)
        incident = alert_services.alert_open_incident(alert=alert, by=operator)
    assert incident.exercise == exercise
    # Only the exercise's units are proposed, and a real unit cannot be engaged on it.
    suggested = {s.unit.call_sign for s in selectors.incident_suggestions(incident=incident)}
    assert suggested and all(name.startswith("EX-") for name in suggested)
    with pytest.raises(StateConflict):
        unit_services.unit_assign(incident=incident, unit=real_unit, by=operator)
    real = make_incident()
    assert "PM 1" in {s.unit.call_sign for s in selectors.incident_suggestions(incident=real)}
    with pytest.raises(StateConflict):
        alert_services.alert_attach(alert=Alert.objects.get(pk=alert.pk), incident=real,
                                    by=operator)

    # No real street equipment is commanded for an exercise.
    light = Device.objects.create(code="lum-ex", name="Candélabre quai", kind="street_light",
                                  address="lum-ex", lat=incident.lat, lon=incident.lon)
    with pytest.raises(StateConflict):
        device_commands.command_request(device=light, action="on", params={}, by=operator,
                                        incident=incident)
    assert not Command.objects.exists()

    # A population alert drafted on it is the exercise's: issued, it reaches no channel.
    panel = Device.objects.create(code="pmv-ex", name="Panneau quai", kind="message_panel",
                                  address="pmv-ex", lat=incident.lat, lon=incident.lon,
                                  sector=incident.sector)
    AlertRecipient.objects.create(name="Mairie", email="veille@example.org")
    step = StepRun.objects.get(run__incident=incident, kind="population_alert")
    message = draft(operator, incident.sector, incident=incident, step=step)
    assert message.exercise == exercise
    issued = population.population_alert_issue(alert=message, by=supervisor)
    assert issued.status == PopulationAlert.Status.ISSUED
    assert not Command.objects.filter(device=panel).exists()
    assert population.population_alert_notify(alert_id=issued.pk)["email"] == 0
    assert mail.outbox == []
    client = __import__("django.test", fromlist=["Client"]).Client()
    assert client.get(f"/cap/{issued.identifier}.xml").status_code == 404
    assert issued.identifier.encode() not in client.get("/cap/flux.atom").content
    assert StepRun.objects.get(pk=step.pk).status == "done"


def test_the_trainer_scores_against_the_deadlines_then_purges(room, api, make_incident):
    operator, supervisor = room["operator"], room["supervisor"]
    real = make_incident()
    with at(0):
        exercise = exercises.exercise_start(by=supervisor, scenario="nuit-festive")
    fight_at = next(s["at"] for s in exercise.steps if s.get("category") == "rixe")
    with at(fight_at):
        exercises.exercise_advance(exercise=exercise)
    fight = Alert.objects.get(exercise=exercise, category__code="rixe")
    with at(fight_at + 40):  # acknowledged after 40 s
        alert_services.alert_acknowledge(alert=fight, by=operator)
        incident = alert_services.alert_open_incident(alert=fight, by=operator)
    steps = {s.key: s for s in StepRun.objects.filter(run__incident=incident)}
    with at(fight_at + 60):  # cameras: 20 s into their 60 s
        procedure_services.step_complete(step=steps["cameras"], by=operator,
                                         reason="Caméras de l'exercice vues au mur")
    with at(fight_at + 400):  # a patrol after 340 s: its 180 s deadline is long past
        unit = Unit.objects.get(exercise=exercise, call_sign__startswith="EX-PM-1")
        unit_services.unit_assign(incident=incident, unit=unit, by=operator)
    with at(fight_at + 500):
        exercises.exercise_finish(exercise=exercise, by=supervisor)
    with at(fight_at + 600):
        response = api(supervisor).get(f"/exercices/{exercise.pk}/")
        scores = exercises.exercise_scores(Exercise.objects.get(pk=exercise.pk))
    assert response.status_code == 200
    html = response.content.decode()
    (row,) = scores["incidents"]
    late = {s["step"].key for s in row["late"]}
    missed = {s["step"].key for s in row["missed"]}
    assert "patrouille" in late and "cameras" not in late
    assert {"police-nationale", "signalement"} <= missed
    assert scores["trainees"]["op"]["acknowledged"] == 1
    assert scores["trainees"]["op"]["median_ack_seconds"] == pytest.approx(40)
    assert scores["score"] == round(100 * row["on_time"] / row["required"])
    assert row["on_time"] == 1  # the cameras only
    assert f'id="exercise-score">{scores["score"]} %' in html
    assert "EXERCICE" in html
    # Not for operators.
    assert api(operator).get(f"/exercices/{exercise.pk}/").status_code == 403

    # Purged: nothing of it is left but the journal's story; reality is untouched.
    counts = exercises.exercise_purge(exercise=exercise, by=supervisor)
    assert counts["incidents"] >= 1 and counts["units"] == 3 and counts["alerts"] >= 1
    assert not Alert.objects.filter(exercise=exercise).exists()
    assert not Incident.objects.filter(exercise=exercise).exists()
    assert not Unit.objects.filter(exercise=exercise).exists()
    assert Incident.objects.filter(pk=real.pk).exists()
    assert Exercise.objects.get(pk=exercise.pk).status == "purged"
    assert Event.objects.filter(type="exercise.purged").exists()


def test_a_trainer_starts_an_exercise_from_the_page(room, api):
    client = api(room["supervisor"])
    page = client.get("/exercices/").content.decode()
    assert "nuit-festive" in page and "crue-ouche" in page
    bad = client.post("/exercices/", {"scenario": "crue-ouche", "speed": 500})
    assert bad.status_code == 200 and not Exercise.objects.exists()
    response = client.post("/exercices/", {"scenario": "crue-ouche", "speed": 10})
    exercise = Exercise.objects.get()
    assert response.status_code == 302 and exercise.speed == 10
    assert api(room["operator"]).get("/exercices/").status_code == 403
    # The console shows the banner while it runs.
    console = api(room["operator"]).get("/console/").content.decode()
    assert 'id="exercise-banner"' in console and "EXERCICE EN COURS" in console
    assert "inondation du quartier bas" in console
