from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObservatoryConfig(AppConfig):
    name = "observatory"
    verbose_name = _("Observatoire de la tranquillité publique")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from observatory import events

        events.declare()
