"""Device commands through real faults: a Celery worker killed (SIGKILL) while it waits for a
device's answer, and a Redis restart that loses the queued commands. Real worker processes,
a Redis server of the test's own, the real MQTT broker and an equipment simulator on it: every
command reaches a final state within its deadline, and no device acts on a command twice."""

import shutil
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from devices.models import Command
from devices.services import commands as command_services
from tests.conftest import require
from tests.devices.test_commands import statuses
from tests.devices.workers import PrivateRedis, Worker, publishing_to

pytestmark = pytest.mark.django_db(transaction=True)

RECONCILE_SECONDS = 0.5


@pytest.fixture
def private_redis(tmp_path):
    require(bool(shutil.which("redis-server")), "needs redis-server on the PATH")
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def faults(needs_postgres, mqtt, private_redis):
    """Quick deadlines, shared by this process (which queues) and the workers (which send)."""
    values = {"DEVICE_ACK_TIMEOUT_SECONDS": 4, "DEVICE_COMMAND_GRACE_SECONDS": 3,
              "DEVICE_RETRY_BACKOFF_SECONDS": 0.2, "DEVICE_COMMAND_MAX_ATTEMPTS": 3}
    for name, value in values.items():
        setattr(mqtt, name, value)
    return {**values, "MQTT_URL": mqtt.MQTT_URL, "MQTT_TOPIC_PREFIX": mqtt.MQTT_TOPIC_PREFIX,
            "CELERY_BROKER_URL": private_redis.url, "CELERY_RESULT_BACKEND": private_redis.url,
            "CELERY_BROKER_TRANSPORT": None, "CELERY_BROKER_TRANSPORT_OPTIONS": {},
            "CHANNEL_LAYERS": django_settings.CHANNEL_LAYERS,
            "CELERY_BEAT_SCHEDULE": {"reconcile-device-commands": {
                "task": "devices.reconcile_commands", "schedule": RECONCILE_SECONDS}}}


@pytest.fixture
def workers(faults, tmp_path):
    started = []

    def start(name: str) -> Worker:
        worker = Worker({"database": connection.settings_dict["NAME"], "settings": faults},
                        tmp_path, name)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def settle(commands: list[Command]) -> list[Command]:
    """The commands once all are final, waiting past their deadline (plus a reconciler's turn)
    at most."""
    latest = max(command.deadline for command in commands)
    seconds = (latest - timezone.now()).total_seconds() + RECONCILE_SECONDS + 3
    pks = [command.pk for command in commands]
    wait_until(lambda: not Command.objects.filter(pk__in=pks)
               .exclude(status__in=Command.FINAL).exists(), max(seconds, 1))
    return list(Command.objects.filter(pk__in=pks).order_by("pk"))


def assert_each_final_in_time_and_acted_on_once(commands, simulator):
    for command in commands:
        assert command.status == "done", (command.status, command.error, statuses(command))
        assert command.finished_at <= command.deadline
    assert sorted(uid for _address, uid in simulator.applied) == sorted(
        str(command.uid) for command in commands)


def test_a_worker_killed_while_waiting_for_an_answer_strands_no_command(
        make_device, people, equipment, faults, private_redis, workers):
    lights = [make_device(f"lum-kill-{n}", driver="mqtt") for n in range(3)]
    simulator = equipment(lights, delay=(1.5, 1.5))  # long enough to die waiting
    first = workers("first")
    with publishing_to(private_redis.url):
        commands = [command_services.command_request(device=light, action="on", params={},
                                             by=people["operator"]) for light in lights]

    assert wait_until(lambda: Command.objects.filter(status="sent").exists(), 20)
    first.kill()
    killed = Command.objects.get(status="sent")
    workers("second")
    commands = settle(commands)

    assert_each_final_in_time_and_acted_on_once(commands, simulator)
    killed.refresh_from_db()
    assert killed.attempts == 2
    assert statuses(killed) == ["requested", "sent", "retrying", "sent", "acknowledged", "done"]


def test_commands_queued_before_a_redis_restart_are_all_carried_out(
        make_device, people, equipment, faults, private_redis, workers):
    lights = [make_device(f"lum-restart-{n}", driver="mqtt") for n in range(3)]
    simulator = equipment(lights, delay=(0.05, 0.1))
    with publishing_to(private_redis.url):  # no worker runs yet
        commands = [command_services.command_request(device=light, action="off", params={},
                                             by=people["operator"]) for light in lights]
    queue = redis.Redis.from_url(private_redis.url)
    assert queue.llen("celery") == 3

    private_redis.restart()
    assert queue.llen("celery") == 0
    workers("after-restart")
    commands = settle(commands)

    assert_each_final_in_time_and_acted_on_once(commands, simulator)
    for command in commands:  # queued again by the reconciler, then sent once
        story = statuses(command)
        assert story[:2] == ["requested", "requested"] and story.count("sent") == 1
        assert story[-3:] == ["sent", "acknowledged", "done"]
