from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VideoConfig(AppConfig):
    name = "video"
    verbose_name = _("Vidéoprotection")

    def ready(self):
        from controlroom.layers import register
        from video.layers import cameras_layer

        register("cameras", cameras_layer)
        from video import events

        events.declare()
