import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from controlroom.located import Located, level_field
from controlroom.models import Agency, Sector
from incidents.models.incidents import Category, Incident


class PartnerSystem(models.Model):
    """An external system that calls the API with its own token (partner alerts, AVL feeds).

    Only a SHA-256 digest of the token is stored; the token is shown once, when issued.
    """

    class Scope(models.TextChoices):
        ALERTS = "alerts", _("Créer des alertes")
        POSITIONS = "positions", _("Transmettre les positions des unités de son agence")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    agency = models.ForeignKey(
        Agency, verbose_name=_("agence"), on_delete=models.PROTECT, related_name="partner_systems"
    )
    scopes = models.JSONField(_("droits"), default=list)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("début du jeton"), max_length=8, editable=False)
    active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernier appel"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("système partenaire")
        verbose_name_plural = _("systèmes partenaires")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def issue_token(self) -> str:
        """A new random token; the previous one stops working. Returns it in clear, once."""
        token = secrets.token_urlsafe(32)
        self.token_digest = self.digest(token)
        self.token_hint = token[:6]
        return token

    def allows(self, scope: str) -> bool:
        return self.active and scope in self.scopes

    @property
    def actor_label(self) -> str:
        return f"partner:{self.code}"


class Alert(Located):
    class Source(models.TextChoices):
        CAMERA = "camera", _("Analyse vidéo")
        SOUND = "sound", _("Analyse sonore")
        SENSOR = "sensor", _("Capteur")
        CITIZEN = "citizen", _("Signalement citoyen")
        PARTNER = "partner", _("Partenaire")
        OPERATOR = "operator", _("Opérateur")
        OBSERVATORY = "observatory", _("Observatoire (hausse anormale)")

    class Status(models.TextChoices):
        NEW = "new", _("nouvelle")
        ACKNOWLEDGED = "acknowledged", _("acquittée")
        ATTACHED = "attached", _("rattachée à un incident")
        DISMISSED = "dismissed", _("écartée")

    class DismissReason(models.TextChoices):
        FALSE_ALARM = "false_alarm", _("Fausse alerte")
        DUPLICATE = "duplicate", _("Doublon")
        NOT_OUR_COMPETENCE = "not_our_competence", _("Hors compétence")
        ALREADY_HANDLED = "already_handled", _("Déjà traitée")
        TEST = "test", _("Essai ou maintenance")
        OTHER = "other", _("Autre")

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED)

    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    # Identifies the emitting system (camera id, partner code…) for idempotency with source_ref.
    source_system = models.CharField(_("système émetteur"), max_length=80, blank=True)
    source_ref = models.CharField(_("référence source"), max_length=120, blank=True)
    partner = models.ForeignKey(
        PartnerSystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("catégorie"), on_delete=models.PROTECT, related_name="alerts"
    )
    severity = level_field(_("gravité"))
    title = models.CharField(_("intitulé"), max_length=200)
    sector = models.ForeignKey(
        Sector, verbose_name=_("secteur"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("survenue le"))
    received_at = models.DateTimeField(_("reçue le"), db_index=True)
    # Set on what an exercise created: shown with an "EXERCICE" banner, kept out of statistics
    # and of the real channels, purged at the end.
    exercise = models.ForeignKey("incidents.Exercise", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("exercice"))
    evidence = models.JSONField(_("éléments"), default=dict, blank=True)
    dedup_key = models.CharField(_("clé de dédoublonnage"), max_length=200, blank=True)
    repeat_count = models.PositiveIntegerField(_("occurrences"), default=1)
    # The sensors and cameras whose alerts of the same event were gathered on this one: each
    # {source, emitter, title, lat, lon, at}, the first being the alert's own.
    sources = models.JSONField(_("sources"), default=list, blank=True)
    source_count = models.PositiveIntegerField(_("nombre de sources"), default=1)
    last_seen_at = models.DateTimeField(_("dernière occurrence"))
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acquittée le"), null=True, blank=True)
    # Kept for statistics: how long the alert waited for an operator.
    ack_delay_seconds = models.FloatField(_("délai d'acquittement (s)"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("transmise au superviseur le"), null=True, blank=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    dismiss_reason = models.CharField(
        _("motif"), max_length=30, choices=DismissReason.choices, blank=True
    )
    dismiss_note = models.CharField(_("précision"), max_length=500, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("traitée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("alerte")
        verbose_name_plural = _("alertes")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_system", "source_ref"],
                condition=~Q(source_ref=""),
                name="alert_source_ref_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["category", "dedup_key", "status"]),
            models.Index(fields=["status", "received_at"]),
        ]

    def __str__(self):
        return f"{self.get_source_display()} · {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
