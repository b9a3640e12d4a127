"""The journal event types the video app records, and how replay applies each."""

from django.utils.translation import gettext_lazy as _

from controlroom.events import NOT_REPLAYED, register, register_configured

APP = "video"

CAMERA_FIELDS = ("camera", "code", "name", "online", "sensitive", "lat", "lon", "analytics")
SCREEN_FIELDS = ("screen", "name", "camera")


def declare() -> None:
    from incidents import replay
    from video.models import Camera, Screen

    def add(type, label, replay=NOT_REPLAYED, fields=()):
        register(type, app=APP, label=label, replay=replay, fields=fields)

    add("camera.online", _("Caméra en ligne"), replay.apply_camera, CAMERA_FIELDS)
    add("camera.offline", _("Caméra hors ligne"), replay.apply_camera, CAMERA_FIELDS)
    add("camera.connection_failed", _("Caméra injoignable"), replay.apply_camera,
        CAMERA_FIELDS)
    add("camera.live_viewed", _("Direct consulté"), NOT_REPLAYED, ("camera",))
    register_configured("camera", app=APP, name=Camera._meta.verbose_name,
                        replay=replay.apply_configured,
                        labels={"created": _("Caméra ajoutée")})
    add("screen.routed", _("Écran affecté"), replay.apply_screen, SCREEN_FIELDS)
    add("screen.routing_requested", _("Affichage demandé"), NOT_REPLAYED, SCREEN_FIELDS)
    add("screen.routing_rejected", _("Affichage refusé"), NOT_REPLAYED, SCREEN_FIELDS)
    add("screen.viewed", _("Écran consulté"), NOT_REPLAYED, SCREEN_FIELDS)
    register_configured("screen", app=APP, name=Screen._meta.verbose_name,
                        replay=NOT_REPLAYED)
    add("video.snapshots_expired", _("Images de preuve expirées"))
    add("video.snapshot_unblurred", _("Image de preuve vue sans floutage"))
