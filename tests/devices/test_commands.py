"""Commands to street devices: checks, the two-person rule, delivery over the real MQTT broker
with acknowledgement, timeout, retry, duplicates acted on once, and group commands."""

import json
import re
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from controlroom.errors import StateConflict
from controlroom.models import Event
from devices.drivers import topic
from devices.drivers.mqtt import MqttDriver, client
from devices.models import Command
from devices.services import commands as command_services
from tests.devices.conftest import DARCY, REPUBLIQUE

pytestmark = pytest.mark.django_db


def statuses(command) -> list[str]:
    """The statuses a command went through, from its journal events."""
    return [e.type.split(".", 1)[1] for e in Event.objects.filter(
        subject_app="devices", subject_model="command", subject_id=str(command.pk)).order_by("seq")]


# --- checks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, action, params, message", [
    ("street_light", "set_level", {"level": 140}, "entre 0 et 100"),
    ("street_light", "set_level", {}, "Indiquez « niveau (%) »"),
    ("street_light", "set_level", {"level": "fort"}, "nombre entier"),
    ("street_light", "explode", {}, "Action « explode » inconnue"),
    ("street_light", "on", {"level": 3}, "inattendu"),
    ("traffic_signal", "set_plan", {"plan": "disco"}, "l'un de : normal"),
    ("message_panel", "show", {"lines": ["A" * 21]}, "20 caractères au plus"),
    ("message_panel", "show", {"lines": ["a", "b", "c", "d"]}, "3 lignes au plus"),
    ("message_panel", "show", {"lines": []}, "vide"),
    ("siren", "sound", {"pattern": "alerte", "duration_s": 5}, "entre 10 et 600"),
    ("noise_sensor", "on", {}, "ne reçoit pas de commande"),
])
def test_bad_commands_are_refused_and_nothing_is_sent(make_device, people, kind, action, params,
                                                      message):
    device = make_device(f"dev-{kind}", kind=kind)

    with pytest.raises(ValidationError, match=re.escape(message)):
        command_services.command_request(device=device, action=action, params=params,
                                 by=people["operator"])
    assert not Command.objects.exists()
    assert not Event.objects.filter(type__startswith="device_command.").exists()


def test_liaisons_cannot_command_devices(make_device, people):
    with pytest.raises(PermissionDenied):
        command_services.command_request(device=make_device("lum-1"), action="on", params={},
                                 by=people["liaison_pn"])


# --- the two-person rule -----------------------------------------------------------------------
def test_critical_commands_wait_for_another_supervisor(make_device, people, agencies,
                                                       quick_simulator):
    from controlroom import services as config

    other = config.user_ensure(username="sup2", password="x-very-long-pass", role="supervisor",
                               agency=agencies["pm"])
    bollard = make_device("borne-1", kind="bollard")
    command = command_services.command_request(device=bollard, action="lower", params={},
                                       by=people["supervisor"], reason="Marché de Noël")
    assert command.status == "awaiting_approval" and command.critical

    with pytest.raises(PermissionDenied, match="autre personne"):
        command_services.command_approve(command=command, by=people["supervisor"])
    with pytest.raises(PermissionDenied, match="Seul un superviseur"):
        command_services.command_approve(command=command, by=people["operator"])
    approved = command_services.command_approve(command=command, by=other)
    command_services.command_deliver(command_id=command.pk, driver=quick_simulator)

    approved.refresh_from_db()
    assert approved.status == "done" and approved.approved_by == other
    assert statuses(command) == ["awaiting_approval", "requested", "sent", "acknowledged", "done"]
    with pytest.raises(StateConflict):
        command_services.command_approve(command=command, by=other)


def test_a_rejected_command_is_never_sent(make_device, people, agencies):
    command = command_services.command_request(device=make_device("siren-1", kind="siren"),
                                       action="sound", params={"pattern": "essai"},
                                       by=people["operator"], reason="Essai mensuel")

    with pytest.raises(ValidationError, match="pourquoi"):
        command_services.command_reject(command=command, by=people["supervisor"], reason=" ")
    command_services.command_reject(command=command, by=people["supervisor"], reason="Exercice annulé")
    outcome = command_services.command_deliver(command_id=command.pk)

    assert outcome.status == "rejected"
    assert statuses(command) == ["awaiting_approval", "rejected"]


def test_only_all_red_is_critical_for_traffic_signals(make_device, people):
    signal = make_device("feux-1", kind="traffic_signal")

    wave = command_services.command_request(device=signal, action="set_plan", params={"plan": "green_wave"},
                                    by=people["operator"])
    red = command_services.command_request(device=signal, action="set_plan", params={"plan": "all_red"},
                                   by=people["operator"], reason="Convoi exceptionnel")

    assert (wave.status, red.status) == ("requested", "awaiting_approval")


# --- delivery over MQTT ------------------------------------------------------------------------
def test_round_trip_over_mqtt_with_ack_and_state(make_device, people, equipment, mqtt):
    light = make_device("lum-mqtt", driver="mqtt")
    simulator = equipment([light])

    command = command_services.command_request(device=light, action="set_level", params={"level": 40},
                                       by=people["operator"])
    outcome = command_services.command_deliver(command_id=command.pk)

    command.refresh_from_db()
    light.refresh_from_db()
    assert outcome.status == "done" and command.attempts == 1
    assert statuses(command) == ["requested", "sent", "acknowledged", "done"]
    assert light.state == {"on": True, "level": 40, "boost": False}
    assert light.last_seen_at is not None
    assert simulator.applied == [(light.address, str(command.uid))]


def test_no_answer_times_out_after_every_attempt(make_device, people, mqtt):
    mqtt.DEVICE_ACK_TIMEOUT_SECONDS = 0.3
    mqtt.DEVICE_COMMAND_MAX_ATTEMPTS = 2
    light = make_device("lum-silent", driver="mqtt")  # no simulator answers for it
    command = command_services.command_request(device=light, action="on", params={},
                                       by=people["operator"])

    first = command_services.command_deliver(command_id=command.pk)
    second = command_services.command_deliver(command_id=command.pk)

    assert first.status == "retrying" and first.retry_in == pytest.approx(0.1)
    assert second.status == "timed_out" and second.retry_in is None
    assert statuses(command) == ["requested", "sent", "retrying", "sent", "timed_out"]
    assert "pas répondu" in Command.objects.get(pk=command.pk).error


def test_a_broker_outage_is_retried_then_succeeds(make_device, people, equipment, mqtt):
    light = make_device("lum-retry", driver="mqtt")
    command = command_services.command_request(device=light, action="off", params={},
                                       by=people["operator"])
    down = MqttDriver(url="mqtt://127.0.0.1:1", prefix=mqtt.MQTT_TOPIC_PREFIX)

    failed = command_services.command_deliver(command_id=command.pk, driver=down)
    equipment([light])
    succeeded = command_services.command_deliver(command_id=command.pk)

    assert failed.status == "retrying"
    assert "injoignable" in Event.objects.filter(type="device_command.retrying").get().payload["error"]
    assert succeeded.status == "done"
    assert statuses(command) == ["requested", "sent", "retrying", "sent", "acknowledged", "done"]


def test_a_broker_outage_on_every_attempt_ends_failed_not_dropped(make_device, people, mqtt):
    mqtt.DEVICE_COMMAND_MAX_ATTEMPTS = 2
    light = make_device("lum-down", driver="mqtt")
    command = command_services.command_request(device=light, action="off", params={},
                                       by=people["operator"])
    down = MqttDriver(url="mqtt://127.0.0.1:1", prefix=mqtt.MQTT_TOPIC_PREFIX)

    outcomes = [command_services.command_deliver(command_id=command.pk, driver=down).status
                for _ in range(2)]

    assert outcomes == ["retrying", "failed"]
    assert Command.objects.get(pk=command.pk).status == "failed"


def test_a_command_delivered_twice_is_acted_on_once(make_device, people, equipment, mqtt):
    panel = make_device("pmv-1", kind="message_panel", driver="mqtt")
    simulator = equipment([panel])
    command = command_services.command_request(device=panel, action="show",
                                       params={"lines": ["ROUTE BARREE", "DEVIATION"]},
                                       by=people["operator"])
    acks = []
    got_two = threading.Event()
    listener = client(mqtt.MQTT_URL, "test-listener")
    listener.on_message = lambda *a: (acks.append(json.loads(a[2].payload)),
                                      len(acks) >= 2 and got_two.set())
    listener.loop_start()
    listener.subscribe(topic(mqtt.MQTT_TOPIC_PREFIX, panel.address, "ack"), qos=1)
    try:
        for _ in range(2):  # the broker (QoS 1) may deliver a command twice
            listener.publish(topic(mqtt.MQTT_TOPIC_PREFIX, panel.address, "cmd"),
                             json.dumps(command.message()), qos=1).wait_for_publish(2)
        assert got_two.wait(5)
    finally:
        listener.loop_stop()
        listener.disconnect()

    assert simulator.applied == [(panel.address, str(command.uid))]
    assert [a["command"] for a in acks] == [str(command.uid)] * 2
    assert simulator.states[panel.address]["lines"] == ["ROUTE BARREE", "DEVIATION"]


# --- groups --------------------------------------------------------------------------------------
def test_group_command_around_an_incident_with_per_device_results(make_device, people,
                                                                  make_incident_at):
    near = [make_device(f"lum-{i}", place=(DARCY[0] + i * 0.0005, DARCY[1])) for i in range(3)]
    far = make_device("lum-far", place=REPUBLIQUE)
    make_device("pmv-near", kind="message_panel")
    incident = make_incident_at(DARCY)
    from devices.drivers.simulator import SimulatorDriver

    group = command_services.command_group_request(kind="street_light", action="set_level",
                                           params={"level": 100}, by=people["operator"],
                                           incident=incident, radius_m=200)
    flaky = SimulatorDriver(delay=(0.0, 0.0), failure_rate=0.0)
    for command in group.commands.order_by("pk"):
        command_services.command_deliver(command_id=command.pk,
                                 driver=flaky if command.device != near[2] else _Silent())

    results = dict(group.commands.values_list("device__code", "status"))
    assert results == {"lum-0": "done", "lum-1": "done", "lum-2": "retrying"}
    assert far.code not in results
    assert "200 m autour de" in group.label
    event = Event.objects.get(type="device_group.requested")
    assert sorted(event.payload["devices"]) == sorted(d.pk for d in near)


def test_a_group_needs_a_target_with_devices(make_device, people, make_incident_at):
    make_device("lum-x", place=REPUBLIQUE)
    incident = make_incident_at(DARCY)

    with pytest.raises(ValidationError, match="Aucun équipement"):
        command_services.command_group_request(kind="street_light", action="on", params={},
                                       by=people["operator"], incident=incident, radius_m=50)
    with pytest.raises(ValidationError, match="Choisissez"):
        command_services.command_group_request(kind="street_light", action="on", params={},
                                       by=people["operator"])


class _Silent:
    def deliver(self, *args, **kwargs):
        return None


def test_the_celery_task_retries_with_backoff_until_it_gives_up(make_device, people, mqtt):
    from controlroom.celery import app
    from devices.tasks import send_command

    mqtt.MQTT_URL = "mqtt://127.0.0.1:1"  # the broker is down for the whole test
    mqtt.DEVICE_COMMAND_MAX_ATTEMPTS = 3
    light = make_device("lum-task", driver="mqtt")
    command = command_services.command_request(device=light, action="on", params={},
                                       by=people["operator"])
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        result = send_command.apply(args=[command.pk])
    finally:
        app.conf.task_always_eager = eager

    command.refresh_from_db()
    assert result.get() == "failed" and command.attempts == 3
    retries = Event.objects.filter(type="device_command.retrying").order_by("seq")
    assert [e.payload["retry_in"] for e in retries] == [0.1, 0.2]
