from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.located import Level, Located, level_field
from controlroom.models import Agency, Sector


class Category(models.Model):
    """One entry of the incident taxonomy (configurable in the admin)."""

    class Domain(models.TextChoices):
        PUBLIC_SPACE = "voie_publique", _("Voie publique")
        TRANQUILLITY = "tranquillite", _("Tranquillité publique")
        SECURITY = "securite", _("Sécurité")
        RESCUE = "secours", _("Secours")
        POPULATION = "population", _("Protection de la population")
        VIDEO = "video", _("Vidéoprotection")
        TECHNICAL = "technique", _("Technique")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("libellé"), max_length=120)
    domain = models.CharField(_("domaine"), max_length=30, choices=Domain.choices)
    default_priority = level_field(_("priorité par défaut"))
    # Repeated alerts with the same dedup key within this window count on the open alert.
    dedup_window_minutes = models.PositiveIntegerField(_("fenêtre de dédoublonnage (min)"), default=10)
    # Unit kinds that usually answer this category, for dispatch suggestions.
    unit_kinds = models.JSONField(_("types d'unités suggérés"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")
        ordering = ["domain", "label"]

    def __str__(self):
        return f"{self.get_domain_display()} · {self.label}"


class Incident(Located):
    class Status(models.TextChoices):
        NEW = "new", _("nouveau")
        ACKNOWLEDGED = "acknowledged", _("pris en compte")
        DISPATCHED = "dispatched", _("moyens engagés")
        ON_SCENE = "on_scene", _("sur place")
        RESOLVED = "resolved", _("résolu")
        CLOSED = "closed", _("clos")
        CANCELLED = "cancelled", _("annulé")

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.DISPATCHED, Status.ON_SCENE)

    category = models.ForeignKey(
        Category, verbose_name=_("catégorie"), on_delete=models.PROTECT, related_name="incidents"
    )
    priority = level_field(_("priorité"))
    title = models.CharField(_("intitulé"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    sector = models.ForeignKey(
        Sector, verbose_name=_("secteur"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    agencies = models.ManyToManyField(
        Agency, verbose_name=_("agences impliquées"), blank=True, related_name="incidents"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), db_index=True)
    # Set on what an exercise created: shown with an "EXERCICE" banner, kept out of statistics
    # and of the real channels, purged at the end.
    exercise = models.ForeignKey("incidents.Exercise", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("exercice"))
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    status_changed_at = models.DateTimeField(_("état modifié le"))
    acknowledged_at = models.DateTimeField(_("pris en compte le"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("résolu le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    cancel_reason = models.CharField(_("motif d'annulation"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-created_at"]
        permissions = [
            ("view_all_incidents", _("Voir les incidents de toutes les agences")),
            ("close_incident", _("Clore ou rouvrir un incident")),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"{self.reference} · {self.title}"

    @property
    def reference(self) -> str:
        year = self.created_at.year if self.created_at else ""
        return f"INC-{year}-{self.pk or 0:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


__all__ = ["Category", "Incident", "Level"]
