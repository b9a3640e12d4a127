"""The journal event types the citizens app records, and how replay applies each."""

from django.utils.translation import gettext_lazy as _

from controlroom.events import NOT_REPLAYED, register, register_configured

APP = "citizens"


def declare() -> None:
    from citizens.models import ClientApplication, Service
    from incidents import replay

    def add(type, label, replay=NOT_REPLAYED, fields=()):
        register(type, app=APP, label=label, replay=replay, fields=fields)

    add("citizen_report.received", _("Signalement reçu"), replay.apply_report,
        ("report", "service", "status", "lat", "lon"))
    add("citizen_report.status_changed", _("Signalement mis à jour"), replay.apply_report,
        ("report", "status"))
    add("citizen_report.contact_erased", _("Coordonnées du citoyen effacées"), NOT_REPLAYED)
    register_configured("service", app=APP, name=Service._meta.verbose_name,
                        replay=NOT_REPLAYED)
    register_configured("clientapplication", app=APP,
                        name=ClientApplication._meta.verbose_name, replay=NOT_REPLAYED)
