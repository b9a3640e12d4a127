import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devices.drivers import DriverUnavailable
from devices.equipment_mqtt import EquipmentSimulator
from devices.models import Device


class Command(BaseCommand):
    help = (
        "Play the equipment side over MQTT for the devices whose driver is 'mqtt': acknowledge "
        "commands (once per command id), publish state, and send periodic sensor telemetry. "
        "For demonstrations and tests; Ctrl-C stops it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--telemetry-seconds", type=float, default=10.0)
        parser.add_argument("--failure-rate", type=float, default=0.0,
                            help="share of commands left unanswered (0–1)")

    def handle(self, *args, **options):
        if not settings.MQTT_URL:
            raise CommandError("Set MQTT_URL (e.g. mqtt://127.0.0.1:1883).")
        devices = list(Device.objects.filter(active=True, driver=Device.Driver.MQTT))
        if not devices:
            raise CommandError("No active device uses the 'mqtt' driver.")
        try:
            simulator = EquipmentSimulator(
                url=settings.MQTT_URL, prefix=settings.MQTT_TOPIC_PREFIX,
                devices={d.address: d.kind for d in devices},
                states={d.address: d.state for d in devices},
                failure_rate=options["failure_rate"],
                telemetry_seconds=options["telemetry_seconds"],
            ).start()
        except DriverUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Simulating {len(devices)} devices on {settings.MQTT_URL} "
                          f"(prefix {settings.MQTT_TOPIC_PREFIX}). Ctrl-C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        simulator.stop()
