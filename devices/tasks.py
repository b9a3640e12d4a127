from celery import shared_task
from django.conf import settings

from devices import services
from devices.services import commands as command_services


@shared_task(bind=True, name="devices.send_command", max_retries=None, acks_late=True,
             reject_on_worker_lost=True)
def send_command(self, command_id: int) -> str:
    """Send a command; retried with exponential backoff until it is answered or gives up. A
    message lost with its worker or its broker is made good by ``reconcile_commands``."""
    outcome = command_services.command_deliver(command_id=command_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="devices.reconcile_commands", ignore_result=True)
def reconcile_commands() -> dict:
    from devices.reconcile import commands_reconcile

    return commands_reconcile()


@shared_task(name="devices.check_heartbeats")
def check_heartbeats() -> int:
    return services.devices_check_heartbeats()


@shared_task(name="devices.simulate_equipment")
def simulate_equipment() -> int:
    from devices.services import telemetry

    return telemetry.simulator_tick()


@shared_task(name="devices.roll_up_telemetry")
def roll_up_telemetry() -> int:
    from devices.services import telemetry

    return telemetry.telemetry_roll_up()


@shared_task(name="devices.notify_population_alert", autoretry_for=(OSError,), max_retries=3,
             retry_backoff=True)
def notify_population_alert(alert_id: int) -> dict:
    from devices.services import population

    return population.population_alert_notify(alert_id=alert_id)


def _enqueue_sound(sensor_id: int, token: str) -> None:
    # A message older than a window is stale: the beat will have started the sensor again.
    from controlroom import leases

    analyse_sound_sensor.apply_async(args=[sensor_id, token],
                                     expires=settings.SOUND_WINDOW_SECONDS + leases.MARGIN_SECONDS)


@shared_task(name="devices.analyse_sound_sensor", acks_late=True, reject_on_worker_lost=False,
             ignore_result=True)
def analyse_sound_sensor(sensor_id: int, token: str) -> dict:
    """One window of a sound sensor's analysis (``sound`` queue), then the next one queued."""
    from devices.services.sound_analysis import analyse_window

    result = analyse_window(sensor_id, token=token)
    if not result.stopped:
        _enqueue_sound(sensor_id, token)
    return {"seconds": round(result.seconds, 1), "events": result.events,
            "rejected": result.rejected, "stopped": result.stopped}


@shared_task(name="devices.supervise_sound_sensors", ignore_result=True)
def supervise_sound_sensors() -> int:
    """Start the sensors nobody analyses: new ones, those whose hours begin, those whose loop
    stopped (retried with backoff) and those whose worker was lost."""
    from devices.services import sound

    started = sound.sensors_due()
    for sensor_id, token in started:
        _enqueue_sound(sensor_id, token)
    return len(started)
