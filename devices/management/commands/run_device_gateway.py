import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from devices.drivers import DriverUnavailable
from devices.equipment_mqtt import DeviceGateway
from devices.services import telemetry

logger = logging.getLogger(__name__)


def _on_report(address: str, channel: str, data: dict) -> None:
    close_old_connections()  # a long-lived listener: never work on a connection gone stale
    try:
        telemetry.device_message(address=address, channel=channel, data=data)
    except Exception:  # one bad message must not stop the listener
        logger.exception("Device report from %s/%s could not be handled", address, channel)


class Command(BaseCommand):
    help = "Listen to the devices' state and telemetry over MQTT (Ctrl-C stops it)."

    def handle(self, *args, **options):
        if not settings.MQTT_URL:
            raise CommandError("Set MQTT_URL (e.g. mqtt://127.0.0.1:1883).")
        try:
            gateway = DeviceGateway(url=settings.MQTT_URL, prefix=settings.MQTT_TOPIC_PREFIX,
                                    on_report=_on_report).start()
        except DriverUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Listening on {settings.MQTT_URL} ({settings.MQTT_TOPIC_PREFIX}/…).")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        gateway.stop()
