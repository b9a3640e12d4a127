from celery import shared_task

from devices import services


@shared_task(bind=True, name="devices.send_command", max_retries=None, acks_late=True)
def send_command(self, command_id: int) -> str:
    """Send a command; retried with exponential backoff until it is answered or gives up."""
    outcome = services.command_deliver(command_id=command_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="devices.check_heartbeats")
def check_heartbeats() -> int:
    return services.devices_check_heartbeats()


@shared_task(name="devices.simulate_equipment")
def simulate_equipment() -> int:
    from devices import telemetry

    return telemetry.simulator_tick()


@shared_task(name="devices.roll_up_telemetry")
def roll_up_telemetry() -> int:
    from devices import telemetry

    return telemetry.telemetry_roll_up()


@shared_task(name="devices.notify_population_alert", autoretry_for=(OSError,), max_retries=3,
             retry_backoff=True)
def notify_population_alert(alert_id: int) -> dict:
    from devices import population

    return population.population_alert_notify(alert_id=alert_id)
