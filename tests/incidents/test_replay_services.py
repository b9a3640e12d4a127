"""Replay equals the tables after every service that changes what replay shows: alerts,
incidents, units (from the services and from the administration), crises, device commands and
an exercise's purge."""

from datetime import timedelta

import pytest

from controlroom import services as configuration
from devices.drivers.simulator import SimulatorDriver
from devices.models import Command, Device
from devices.services import commands as device_commands
from incidents import replay
from incidents.models import Alert, Incident, Unit
from incidents.services import alerts as alert_services
from incidents.services import crises, exercises
from incidents.services import incidents as incident_services
from incidents.services import units as unit_services
from tests.incidents.conftest import DARCY, GARE, REPUBLIQUE

pytestmark = pytest.mark.django_db


def replayed() -> dict:
    return replay.state_at(seq=replay.live_state()["seq"], use_checkpoints=False)


def assert_replay_equals_tables(label: str) -> dict:
    live, rebuilt = replay.live_state(), replayed()
    for section in replay.SECTIONS:
        assert rebuilt[section] == live[section], f"after {label}: {section} differ"
    return rebuilt


def test_alerts_incidents_and_units_through_their_services(people, categories, make_unit):
    operator, supervisor = people["operator"], people["supervisor"]
    fight = alert_services.alert_receive(
        by="system:test", source=Alert.Source.SENSOR, category=categories["rixe"],
        title="Rixe", lat=DARCY[0], lon=DARCY[1], severity=2).alert
    noise = alert_services.alert_receive(
        by="system:test", source=Alert.Source.SENSOR, category=categories["nuisance_sonore"],
        title="Bruit", lat=GARE[0], lon=GARE[1], severity=3).alert
    assert_replay_equals_tables("alerts received")
    alert_services.alert_acknowledge(alert=fight, by=operator)
    incident = alert_services.alert_open_incident(alert=fight, by=operator)
    alert_services.alert_attach(alert=noise, incident=incident, by=operator)
    assert_replay_equals_tables("an incident opened and an alert attached")
    unit = make_unit("PM 7")
    unit_services.unit_assign(incident=incident, unit=unit, by=operator)
    unit_services.unit_position_report(unit=unit, lat=REPUBLIQUE[0], lon=REPUBLIQUE[1],
                                       by=operator)
    unit_services.unit_status_set(unit=unit, status=Unit.Status.ON_SCENE, by=operator)
    incident_services.incident_update(incident=incident, by=operator, priority=1)
    assert_replay_equals_tables("a unit dispatched")
    unit_services.unit_release(incident=incident, unit=unit, by=operator)
    incident_services.incident_transition(incident=incident, to=Incident.Status.RESOLVED,
                                          by=operator)
    incident_services.incident_transition(incident=incident, to=Incident.Status.CLOSED,
                                          by=supervisor)
    assert_replay_equals_tables("the incident closed")


def test_units_changed_and_deleted_from_the_administration(people, make_unit):
    """Before the registry, a unit deleted in the administration stayed in replay's picture."""
    admin = people["supervisor"]
    unit = make_unit("VL 3")
    gone = make_unit("VL 4")
    unit.call_sign = "VL 3 bis"
    configuration.configuration_save(instance=unit, by=admin, created=False)
    configuration.configuration_delete(instance=Unit.objects.get(pk=gone.pk), by=admin)
    rebuilt = assert_replay_equals_tables("units changed and deleted")
    assert str(gone.pk) not in rebuilt["units"]
    assert rebuilt["units"][str(unit.pk)]["call_sign"] == "VL 3 bis"


def test_a_crisis_from_opening_to_closing(people, agencies, make_incident):
    supervisor = people["supervisor"]
    first, second = make_incident(), make_incident(place=GARE)
    crisis = crises.crisis_open(by=supervisor, kind="flood", title="Crue de l'Ouche",
                                incidents=[first], agencies=[agencies["sdis"]])
    crises.crisis_link_incident(crisis=crisis, incident=second, by=supervisor)
    crises.log_add(crisis=crisis, by=supervisor, text="Point de situation")
    task = crises.task_add(crisis=crisis, by=supervisor, kind="task", title="Évacuer")
    crises.task_set_status(task=task, by=supervisor, status="done")
    assert_replay_equals_tables("a crisis under way")
    crises.crisis_close(crisis=crisis, by=supervisor, summary="Décrue")
    assert_replay_equals_tables("the crisis closed")


def test_device_commands_from_request_to_done(people, agencies, city):
    supervisor, operator = people["supervisor"], people["operator"]
    other = configuration.user_ensure(username="sup2", password="x-very-long-pass",
                                      role="supervisor", agency=agencies["pm"])
    light = Device(code="lum-9", name="Lampadaire 9", kind="street_light", driver="simulator",
                   address="lum-9")
    light.set_point(*DARCY)
    configuration.configuration_save(instance=light, by=supervisor, created=True)
    bollard = Device(code="borne-9", name="Borne 9", kind="bollard", driver="simulator",
                     address="borne-9")
    bollard.set_point(*REPUBLIQUE)
    configuration.configuration_save(instance=bollard, by=supervisor, created=True)
    assert_replay_equals_tables("devices added")
    simulator = SimulatorDriver(delay=(0.0, 0.01), failure_rate=0.0)
    command = device_commands.command_request(device=light, action="on", params={},
                                              by=operator)
    assert_replay_equals_tables("a command requested")
    device_commands.command_deliver(command_id=command.pk, driver=simulator)
    assert Command.objects.get(pk=command.pk).status == "done"
    assert_replay_equals_tables("a command done")
    critical = device_commands.command_request(device=bollard, action="lower", params={},
                                               by=supervisor, reason="Livraison")
    device_commands.command_approve(command=critical, by=other)
    device_commands.command_deliver(command_id=critical.pk, driver=simulator)
    rejected = device_commands.command_request(device=bollard, action="raise", params={},
                                               by=supervisor, reason="Fin de marché")
    device_commands.command_reject(command=rejected, by=other, reason="Pas maintenant")
    assert_replay_equals_tables("a critical command approved, another rejected")


def test_replay_after_an_exercise_purge_shows_none_of_what_it_created(people, categories,
                                                                      agencies, make_incident):
    """Before, the purge's one event left its alerts and units in replay's picture."""
    from demo.procedures import load_demo_procedures

    load_demo_procedures()
    supervisor, operator = people["supervisor"], people["operator"]
    real = make_incident()
    exercise = exercises.exercise_start(by=supervisor, scenario="nuit-festive")
    last = max(step["at"] for step in exercise.steps)
    exercises.exercise_advance(exercise=exercise,
                               now=exercise.started_at + timedelta(seconds=last + 1))
    exercise.refresh_from_db()
    alert = Alert.objects.filter(exercise=exercise).order_by("pk").first()
    assert alert is not None, "the scenario raised alerts"
    alert_services.alert_acknowledge(alert=alert, by=operator)
    incident = alert_services.alert_open_incident(alert=alert, by=operator)
    unit = Unit.objects.filter(exercise=exercise).order_by("pk").first()
    unit_services.unit_assign(incident=incident, unit=unit, by=operator)
    exercises.exercise_finish(exercise=exercise, by=supervisor)
    before = assert_replay_equals_tables("the exercise played")
    alerts = {str(pk) for pk in Alert.objects.filter(exercise=exercise)
              .values_list("pk", flat=True)}
    units = {str(pk) for pk in Unit.objects.filter(exercise=exercise).values_list("pk", flat=True)}
    assert units <= set(before["units"]) and str(incident.pk) in before["incidents"]

    exercises.exercise_purge(exercise=exercise, by=supervisor)
    after = assert_replay_equals_tables("the purge")
    assert not alerts & set(after["alerts"])
    assert not units & set(after["units"])
    assert str(incident.pk) not in after["incidents"]
    assert str(real.pk) in after["incidents"]
