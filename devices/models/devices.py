"""Street devices, the commands sent to them, and groups of commands.

A command has an id that travels with it to the device (``Command.uid``), so a device that
receives it twice acts once. Every status change goes through ``devices.services``, which
journals it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.located import Located
from controlroom.models import Sector
from devices import capabilities

KIND_CHOICES = [(code, _(label)) for code, label in capabilities.choices()]


class Device(Located):
    class Driver(models.TextChoices):
        SIMULATOR = "simulator", _("Simulateur (intégré)")
        MQTT = "mqtt", _("MQTT")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    kind = models.CharField(_("type"), max_length=30, choices=KIND_CHOICES)
    sector = models.ForeignKey(
        Sector, verbose_name=_("secteur"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    driver = models.CharField(_("pilote"), max_length=20, choices=Driver.choices,
                              default=Driver.SIMULATOR)
    # The device's id in its gateway's topics: <prefix>/devices/<address>/cmd …
    address = models.CharField(_("adresse (topic)"), max_length=120, unique=True)
    state = models.JSONField(_("état rapporté"), default=dict, blank=True)
    last_seen_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)
    online = models.BooleanField(_("en ligne"), default=True)
    heartbeat_seconds = models.PositiveIntegerField(
        _("délai avant « hors ligne » (s)"), default=300,
        help_text=_("Sans nouvelle de l'équipement pendant ce délai, une alerte est créée."),
    )
    active = models.BooleanField(_("en service"), default=True)
    # Settings of the built-in simulator for this device, e.g. {"noise_offset_db": 25}.
    simulation = models.JSONField(_("réglages du simulateur"), default=dict, blank=True)

    class Meta:
        verbose_name = _("équipement")
        verbose_name_plural = _("équipements")
        ordering = ["kind", "name"]
        permissions = [
            ("command_device", _("Commander un équipement")),
            ("approve_command", _("Approuver une commande critique")),
        ]

    def __str__(self):
        return self.name

    @property
    def spec(self) -> capabilities.Kind:
        return capabilities.KINDS[self.kind]


class CommandGroup(models.Model):
    """Several devices commanded at once (e.g. every street light within 200 m of an incident)."""

    label = models.CharField(_("intitulé"), max_length=200)
    kind = models.CharField(_("type d'équipement"), max_length=30, choices=KIND_CHOICES)
    action = models.CharField(_("action"), max_length=40)
    params = models.JSONField(_("paramètres"), default=dict, blank=True)
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="device_command_groups")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("demandée le"))

    class Meta:
        verbose_name = _("commande groupée")
        verbose_name_plural = _("commandes groupées")
        ordering = ["-requested_at"]

    def __str__(self):
        return self.label


class Command(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("demandée")
        AWAITING_APPROVAL = "awaiting_approval", _("en attente d'approbation")
        SENT = "sent", _("envoyée")
        RETRYING = "retrying", _("nouvel essai prévu")
        ACKNOWLEDGED = "acknowledged", _("reçue par l'équipement")
        DONE = "done", _("exécutée")
        FAILED = "failed", _("en échec")
        TIMED_OUT = "timed_out", _("sans réponse")
        REJECTED = "rejected", _("refusée")

    FINAL = (Status.DONE, Status.FAILED, Status.TIMED_OUT, Status.REJECTED)
    # On their way to a device, watched by the reconciler (approval waits for a person).
    UNDER_WAY = (Status.REQUESTED, Status.SENT, Status.RETRYING)

    uid = models.UUIDField(_("identifiant de commande"), default=uuid.uuid4, unique=True,
                           editable=False)
    device = models.ForeignKey(Device, verbose_name=_("équipement"), on_delete=models.PROTECT,
                               related_name="commands")
    group = models.ForeignKey(CommandGroup, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="commands")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="device_commands")
    action = models.CharField(_("action"), max_length=40)
    params = models.JSONField(_("paramètres"), default=dict, blank=True)
    critical = models.BooleanField(_("critique"), default=False)
    status = models.CharField(_("état"), max_length=20, choices=Status.choices,
                              default=Status.REQUESTED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("demandée le"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("décision le"), null=True, blank=True)
    # Why the requester asks for it (required for critical commands), and why a supervisor
    # refused it (``reason``).
    request_reason = models.CharField(_("motif de la demande"), max_length=300, blank=True)
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("envois"), default=0)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("reçue le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    error = models.CharField(_("erreur"), max_length=300, blank=True)
    # Set when the command is queued: if it has not moved on by ``check_at`` (its task message
    # or its worker was lost), the reconciler sends it again; it is final by ``deadline``.
    check_at = models.DateTimeField(_("à vérifier le"), null=True, blank=True)
    deadline = models.DateTimeField(_("échéance"), null=True, blank=True)

    class Meta:
        verbose_name = _("commande")
        verbose_name_plural = _("commandes")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["device", "requested_at"])]

    def __str__(self):
        return f"{self.device} · {self.action}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    def message(self) -> dict:
        """What travels to the device: the command id makes a second delivery harmless."""
        return {"command": str(self.uid), "action": self.action, "params": self.params}
