"""The reconciler of device commands, in process: a lost task message, a worker lost while it
waited for the answer, a deadline passed, an answer of failure; each ends in a final state,
journaled, with an alert when the command was not carried out."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from controlroom.models import Event
from devices import reconcile, tasks
from devices.drivers import Ack
from devices.models import Command
from devices.services import commands as command_services
from incidents.models import Alert
from tests.devices.test_commands import statuses

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """What a worker killed mid-attempt leaves: the command sent, no answer recorded."""


class _Dies:
    def deliver(self, *args, **kwargs):
        raise WorkerKilled


class _Refuses:
    def deliver(self, address, kind, message, timeout, state=None):
        return Ack(command=message["command"], status="failed", error="Borne bloquée")


@pytest.fixture
def queued(monkeypatch):
    """The task messages queued after each commit, instead of a broker."""
    sent = []
    monkeypatch.setattr(tasks.send_command, "apply_async",
                        lambda args, **options: sent.append((args[0], options)))
    return sent


@pytest.fixture
def quick(settings):
    settings.DEVICE_ACK_TIMEOUT_SECONDS = 1
    settings.DEVICE_COMMAND_GRACE_SECONDS = 2
    settings.DEVICE_RETRY_BACKOFF_SECONDS = 0.5
    settings.DEVICE_COMMAND_MAX_ATTEMPTS = 3
    return settings


def later(command, seconds: float):
    return command.check_at + timedelta(seconds=seconds)


def test_a_command_whose_task_message_was_lost_is_queued_again(make_device, people, quick,
                                                                 quick_simulator, queued,
                                                                 django_capture_on_commit_callbacks):
    light = make_device("lum-lost")
    with django_capture_on_commit_callbacks(execute=False):  # the message never reaches a worker
        command = command_services.command_request(device=light, action="on", params={},
                                           by=people["operator"])
    command.refresh_from_db()
    assert command.deadline - command.requested_at == timedelta(seconds=3 * 3 + 0.5 + 1 + 2)

    assert reconcile.commands_reconcile(now=command.check_at - timedelta(seconds=0.1)) == {}
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile.commands_reconcile(now=later(command, 0.1)) == {"queued_again": 1}
    assert [pk for pk, _options in queued] == [command.pk]
    assert queued[0][1]["expires"] == command.deadline
    command_services.command_deliver(command_id=command.pk, driver=quick_simulator)

    assert Command.objects.get(pk=command.pk).status == "done"
    assert statuses(command) == ["requested", "requested", "sent", "acknowledged", "done"]
    assert Event.objects.filter(type="device_command.requested").last().payload["requeued"]


def test_a_command_whose_worker_died_waiting_for_the_answer_is_sent_again(
        make_device, people, quick, quick_simulator, queued, django_capture_on_commit_callbacks):
    light = make_device("lum-killed")
    command = command_services.command_request(device=light, action="off", params={},
                                       by=people["operator"])
    with pytest.raises(WorkerKilled):
        command_services.command_deliver(command_id=command.pk, driver=_Dies())
    command.refresh_from_db()
    assert command.status == "sent"
    # Redelivered while the attempt may still be running: nothing happens.
    assert command_services.command_deliver(command_id=command.pk, driver=quick_simulator).status == "sent"

    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile.commands_reconcile(now=later(command, 0.1)) == {"sent_again": 1}
    assert [pk for pk, _options in queued] == [command.pk]
    outcome = command_services.command_deliver(command_id=command.pk, driver=quick_simulator)

    command.refresh_from_db()
    assert outcome.status == "done" and command.attempts == 2
    assert statuses(command) == ["requested", "sent", "retrying", "sent", "acknowledged", "done"]
    retrying = Event.objects.get(type="device_command.retrying")
    assert retrying.payload["error"] == reconcile.WORKER_LOST
    assert not Alert.objects.exists()


def test_the_last_attempt_lost_with_its_worker_ends_timed_out_with_an_alert(
        make_device, people, quick, queued):
    quick.DEVICE_COMMAND_MAX_ATTEMPTS = 1
    bollard = make_device("borne-killed", kind="message_panel")
    command = command_services.command_request(device=bollard, action="clear", params={},
                                       by=people["operator"])
    with pytest.raises(WorkerKilled):
        command_services.command_deliver(command_id=command.pk, driver=_Dies())
    command.refresh_from_db()

    assert reconcile.commands_reconcile(now=later(command, 0.1)) == {"timed_out": 1}

    command.refresh_from_db()
    assert command.status == "timed_out" and command.finished_at is not None
    assert statuses(command) == ["requested", "sent", "timed_out"]
    alert = Alert.objects.get()
    assert alert.category.code == "panne_equipement" and alert.severity == 3
    assert alert.evidence["command"] == str(command.uid)
    assert alert.evidence["status"] == "timed_out"


def test_past_its_deadline_a_command_never_sent_times_out_and_is_never_sent_late(
        make_device, people, quick, quick_simulator, queued):
    light = make_device("lum-late")
    command = command_services.command_request(device=light, action="on", params={},
                                       by=people["operator"])
    command.refresh_from_db()

    assert reconcile.commands_reconcile(now=command.deadline) == {"timed_out": 1}
    # Its task message, delivered at last, sends nothing.
    assert command_services.command_deliver(command_id=command.pk, driver=_Dies()).status == "timed_out"

    command.refresh_from_db()
    assert command.status == "timed_out" and command.attempts == 0
    assert command.error == command_services.NOT_SENT
    assert Alert.objects.get().evidence["attempts"] == 0
    assert reconcile.commands_reconcile(now=command.deadline + timedelta(hours=1)) == {}


def test_a_command_the_device_refuses_fails_with_an_alert(make_device, people, quick):
    command = command_services.command_request(device=make_device("pmv-refus", kind="message_panel"),
                                       action="clear", params={}, by=people["operator"])

    assert command_services.command_deliver(command_id=command.pk, driver=_Refuses()).status == "failed"

    assert statuses(command) == ["requested", "sent", "acknowledged", "failed"]
    alert = Alert.objects.get()
    assert alert.evidence["error"] == "Borne bloquée" and "Pmv Refus" in alert.title


def test_commands_awaiting_approval_and_final_ones_are_left_alone(make_device, people, quick,
                                                                  quick_simulator, queued):
    waiting = command_services.command_request(device=make_device("borne-1", kind="bollard"),
                                       action="lower", params={}, by=people["supervisor"],
                                       reason="Livraison")
    done = command_services.command_request(device=make_device("lum-ok"), action="on", params={},
                                    by=people["operator"])
    command_services.command_deliver(command_id=done.pk, driver=quick_simulator)

    far = django_settings.DEVICE_ACK_TIMEOUT_SECONDS * 1000
    from django.utils import timezone

    assert reconcile.commands_reconcile(now=timezone.now() + timedelta(seconds=far)) == {}
    assert Command.objects.get(pk=waiting.pk).status == "awaiting_approval"


def test_the_beat_runs_the_reconciler_more_often_than_the_grace():
    entries = [entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"] == "devices.reconcile_commands"]
    assert len(entries) == 1
    assert entries[0]["schedule"] < django_settings.DEVICE_COMMAND_GRACE_SECONDS


def test_an_answer_that_comes_after_the_reconciler_stepped_in_still_counts(
        make_device, people, quick, queued, django_capture_on_commit_callbacks):
    light = make_device("lum-slow")
    command = command_services.command_request(device=light, action="on", params={},
                                       by=people["operator"])

    class Slow:
        """A worker so slow that the reconciler takes its attempt for lost, then answered."""

        def deliver(self, address, kind, message, timeout, state=None):
            sent = Command.objects.get(pk=command.pk)
            with django_capture_on_commit_callbacks(execute=True):
                assert reconcile.commands_reconcile(now=later(sent, 0.1)) == {"sent_again": 1}
            return Ack(command=message["command"], status="done", state={"on": True})

    assert command_services.command_deliver(command_id=command.pk, driver=Slow()).status == "done"
    # The attempt queued meanwhile finds the command done: nothing is sent again.
    assert command_services.command_deliver(command_id=command.pk, driver=_Dies()).status == "done"

    assert statuses(command) == ["requested", "sent", "retrying", "acknowledged", "done"]
    assert [pk for pk, _options in queued] == [command.pk]
    assert not Alert.objects.exists()
