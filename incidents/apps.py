from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Alertes et incidents")

    def ready(self):
        from controlroom.layers import register
        from controlroom.selectors import subject_rule_register
        from incidents import selectors
        from incidents.layers import alerts_layer, incidents_layer, units_layer

        # The journal tells an incident's or a crisis's story to those who may see it, only.
        subject_rule_register("incidents", "crisis", selectors.crises_rule)
        subject_rule_register("incidents", "incident", selectors.incidents_rule)
        register("incidents", incidents_layer)
        register("units", units_layer)
        register("alerts", alerts_layer)
        from incidents import events

        events.declare()
