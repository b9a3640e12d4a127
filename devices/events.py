"""The journal event types the devices app records, and how replay applies each."""

from django.utils.translation import gettext_lazy as _

from controlroom.events import NOT_REPLAYED, register, register_configured

APP = "devices"

DEVICE_FIELDS = ("device", "code", "name", "kind", "state", "online", "lat", "lon")
COMMAND_FIELDS = ("command", "uid", "device", "action", "status", "lat", "lon")
POPULATION_FIELDS = ("population_alert", "identifier", "msg_type", "status", "headline")


def declare() -> None:
    from devices.models import AlertRecipient, Command, Device, SoundSensor, TelemetryRule
    from incidents import replay

    def add(type, label, replay=NOT_REPLAYED, fields=()):
        register(type, app=APP, label=label, replay=replay, fields=fields)

    add("device.state", _("État d'équipement"), replay.apply_device, DEVICE_FIELDS)
    add("device.offline", _("Équipement hors ligne"), replay.apply_device, DEVICE_FIELDS)
    add("device.back_online", _("Équipement de retour"), replay.apply_device, DEVICE_FIELDS)
    register_configured("device", app=APP, name=Device._meta.verbose_name,
                        replay=replay.apply_configured,
                        labels={"created": _("Équipement ajouté")})
    # A command changes the map only through the device.state its acknowledgement records.
    labels = {
        Command.Status.REQUESTED: _("Commande demandée"),
        Command.Status.AWAITING_APPROVAL: _("Commande en attente d'approbation"),
        Command.Status.SENT: _("Commande envoyée"),
        Command.Status.RETRYING: _("Commande : nouvel essai prévu"),
        Command.Status.ACKNOWLEDGED: _("Commande reçue par l'équipement"),
        Command.Status.DONE: _("Commande exécutée"),
        Command.Status.FAILED: _("Commande en échec"),
        Command.Status.TIMED_OUT: _("Commande sans réponse"),
        Command.Status.REJECTED: _("Commande refusée"),
    }
    for status in Command.Status.values:
        add(f"device_command.{status}", labels[status], NOT_REPLAYED, COMMAND_FIELDS)
    add("device_group.requested", _("Commande groupée demandée"))
    add("population_alert.drafted", _("Alerte à la population rédigée"), NOT_REPLAYED,
        POPULATION_FIELDS)
    add("population_alert.issued", _("Alerte à la population diffusée"), NOT_REPLAYED,
        POPULATION_FIELDS)
    add("population_alert.notified", _("Alerte à la population notifiée"), NOT_REPLAYED,
        POPULATION_FIELDS)
    add("telemetry_rule.cleared", _("Seuil de télémesure revenu à la normale"))
    register_configured("telemetryrule", app=APP, name=TelemetryRule._meta.verbose_name,
                        replay=NOT_REPLAYED)
    register_configured("alertrecipient", app=APP, name=AlertRecipient._meta.verbose_name,
                        replay=NOT_REPLAYED)
    register_configured("soundsensor", app=APP, name=SoundSensor._meta.verbose_name,
                        replay=NOT_REPLAYED)
    add("sound_sensor.enabled", _("Capteur sonore activé"))
    add("sound_sensor.disabled", _("Capteur sonore désactivé"))
    add("sound_sensor.hours_changed", _("Horaires du capteur sonore modifiés"))
    add("sound_sensor.connection_failed", _("Capteur sonore injoignable"))
    add("sound.located", _("Son localisé"))
