from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizensConfig(AppConfig):
    name = "citizens"
    verbose_name = _("Signalements citoyens")

    def ready(self):
        from citizens.layers import reports_layer
        from controlroom.layers import register

        register("citizen_reports", reports_layer)
        from citizens import events

        events.declare()
