"""Alerts to the population (CAP 1.2 messages) and who they were sent to."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.models import Sector
from devices import cap


def _cap_choices(values):
    return [(value, value) for value in values]


class PopulationAlert(models.Model):
    """A population alert ("télé-alerte"), published as a CAP 1.2 message once issued.

    Issued messages never change: an update or a cancellation is a new message that references
    the one before it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("brouillon")
        ISSUED = "issued", _("diffusée")

    class MsgType(models.TextChoices):
        ALERT = "Alert", _("alerte")
        UPDATE = "Update", _("mise à jour")
        CANCEL = "Cancel", _("annulation")

    class CapStatus(models.TextChoices):
        ACTUAL = "Actual", _("réel")
        # A test of the whole chain: published and notified, kept out of the public feed's
        # entries, never shown on a panel nor sounded by a siren.
        TEST = "Test", _("test")

    identifier = models.CharField(_("identifiant CAP"), max_length=80, blank=True, db_index=True)
    msg_type = models.CharField(_("type de message"), max_length=10, choices=MsgType.choices,
                                default=MsgType.ALERT)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT, db_index=True)
    cap_status = models.CharField(_("statut CAP"), max_length=10, choices=CapStatus.choices,
                                  default=CapStatus.ACTUAL, db_index=True)
    references = models.ForeignKey("self", verbose_name=_("message précédent"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="followups")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="population_alerts")
    # The procedure step ("alerter la population") this message answers, done when it is issued.
    step = models.ForeignKey("incidents.StepRun", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    event = models.CharField(_("événement"), max_length=120)
    # Set on what an exercise created: shown with an "EXERCICE" banner, kept out of statistics
    # and of the real channels, purged at the end.
    exercise = models.ForeignKey("incidents.Exercise", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("exercice"))
    category = models.CharField(_("catégorie CAP"), max_length=20,
                                choices=_cap_choices(cap.CATEGORIES), default="Safety")
    # What the public is told to do (CAP <responseType>); empty: derived from the alert's kind.
    response_type = models.CharField(
        _("conduite à tenir"), max_length=20, blank=True,
        choices=[("", _("selon le type d'alerte"))] + _cap_choices(cap.RESPONSE_TYPES))
    urgency = models.CharField(_("urgence"), max_length=20, choices=_cap_choices(cap.URGENCIES))
    severity = models.CharField(_("gravité"), max_length=20, choices=_cap_choices(cap.SEVERITIES))
    certainty = models.CharField(_("certitude"), max_length=20,
                                 choices=_cap_choices(cap.CERTAINTIES))
    headline = models.CharField(_("titre"), max_length=140)
    description = models.TextField(_("description"))
    instruction = models.TextField(_("consignes"))
    area_name = models.CharField(_("zone"), max_length=200)
    sector = models.ForeignKey(Sector, verbose_name=_("secteur"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    # A closed ring of [lat, lon] points, when the area is not a sector.
    polygon = models.JSONField(_("polygone"), default=list, blank=True)
    expires = models.DateTimeField(_("fin de validité"))
    siren_pattern = models.CharField(
        _("sirènes"), max_length=20, blank=True,
        choices=[("", _("ne pas déclencher")), ("alerte", _("signal d'alerte")),
                 ("fin_alerte", _("fin d'alerte"))],
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("rédigée le"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    sent = models.DateTimeField(_("diffusée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("alerte à la population")
        verbose_name_plural = _("alertes à la population")
        ordering = ["-created_at"]
        permissions = [("issue_populationalert", _("Diffuser une alerte à la population"))]

    def __str__(self):
        return f"{self.get_msg_type_display()} · {self.headline}"


class AlertRecipient(models.Model):
    """Who receives population alerts besides panels and sirens: an e-mail or a webhook."""

    name = models.CharField(_("nom"), max_length=120)
    email = models.EmailField(_("courriel"), blank=True)
    webhook_url = models.URLField(_("adresse du webhook"), blank=True)
    active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("destinataire des alertes")
        verbose_name_plural = _("destinataires des alertes")
        ordering = ["name"]
        constraints = [models.CheckConstraint(
            condition=~models.Q(email="", webhook_url=""), name="recipient_has_a_channel")]

    def __str__(self):
        return self.name
