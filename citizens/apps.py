from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizensConfig(AppConfig):
    name = "citizens"
    verbose_name = _("Signalements citoyens")

    def ready(self):
        from controlroom.layers import register
        from citizens.layers import reports_layer

        register("citizen_reports", reports_layer)
