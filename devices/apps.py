from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = _("Équipements urbains")

    def ready(self):
        from controlroom.layers import register
        from devices.layers import devices_layer

        register("devices", devices_layer)
        from devices import events

        events.declare()
