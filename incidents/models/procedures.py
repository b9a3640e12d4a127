from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from controlroom.located import Level
from controlroom.models import Sector
from incidents.models.incidents import Category, Incident

# A question's branch target that ends the procedure.
END = "end"


class StepKind(models.TextChoices):
    CHECKLIST = "checklist", _("Point de contrôle")
    QUESTION = "question", _("Question oui / non")
    DISPATCH = "dispatch", _("Engager une unité")
    DEVICE_COMMAND = "device_command", _("Commander un équipement")
    SHOW_CAMERAS = "show_cameras", _("Afficher les caméras proches")
    NOTIFY_AGENCY = "notify_agency", _("Prévenir une agence")
    POPULATION_ALERT = "population_alert", _("Alerter la population")
    NOTE = "note", _("Note libre")


class ProcedureTemplate(models.Model):
    """The guided procedure proposed for a category (optionally a priority or a sector)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("catégorie"), on_delete=models.CASCADE,
        related_name="procedure_templates",
    )
    # Applies to incidents of this priority or more serious (1 is the most); empty: any.
    min_priority = models.PositiveSmallIntegerField(
        _("à partir de la priorité"), choices=Level.choices, null=True, blank=True
    )
    sector = models.ForeignKey(
        Sector, verbose_name=_("secteur"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    active = models.BooleanField(_("actif"), default=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("modèle de procédure")
        verbose_name_plural = _("modèles de procédure")
        ordering = ["category__label", "name"]

    def __str__(self):
        return self.name


class StepTemplate(models.Model):
    template = models.ForeignKey(ProcedureTemplate, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(_("clé"), max_length=60)
    order = models.PositiveIntegerField(_("ordre"))
    kind = models.CharField(_("type"), max_length=30, choices=StepKind.choices)
    instruction = models.CharField(_("consigne"), max_length=500)
    mandatory = models.BooleanField(_("obligatoire"), default=True)
    deadline_seconds = models.PositiveIntegerField(
        _("délai (s)"), null=True, blank=True,
        help_text=_("À compter du début de la procédure. Vide : pas de délai."),
    )
    # Kind-specific settings: unit_kind, device_kind + command, agency_kind, camera count…
    params = models.JSONField(_("paramètres"), default=dict, blank=True)
    # For questions: the step to go to on each answer ("end" ends the procedure; empty: next).
    next_if_yes = models.SlugField(_("si oui, aller à"), max_length=60, blank=True)
    next_if_no = models.SlugField(_("si non, aller à"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("étape")
        verbose_name_plural = _("étapes")
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="step_key_unique"),
        ]

    def __str__(self):
        return f"{self.order}. {self.instruction}"

    def clean(self):
        if self.kind != StepKind.QUESTION and (self.next_if_yes or self.next_if_no):
            raise ValidationError(_("Seule une question peut orienter vers une autre étape."))


class ProcedureRun(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("en cours")
        COMPLETED = "completed", _("terminée")
        SUPERSEDED = "superseded", _("remplacée")
        CANCELLED = "cancelled", _("annulée")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="procedure_runs")
    template = models.ForeignKey(
        ProcedureTemplate, null=True, on_delete=models.SET_NULL, related_name="runs"
    )
    # The template as it was when the run started: later edits do not change a running procedure.
    name = models.CharField(_("nom"), max_length=150)
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    started_at = models.DateTimeField(_("démarrée le"))
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("procédure en cours")
        verbose_name_plural = _("procédures en cours")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"], condition=Q(status="active"), name="one_active_run_per_incident"
            ),
        ]
        permissions = [("skip_mandatory_step", _("Passer une étape obligatoire"))]

    def __str__(self):
        return f"{self.name} · {self.incident.reference}"


class StepRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("à faire")
        DONE = "done", _("faite")
        SKIPPED = "skipped", _("passée")
        BYPASSED = "bypassed", _("sans objet")  # left out by a question's answer

    run = models.ForeignKey(ProcedureRun, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=60)
    order = models.PositiveIntegerField()
    kind = models.CharField(max_length=30, choices=StepKind.choices)
    instruction = models.CharField(max_length=500)
    mandatory = models.BooleanField(default=True)
    params = models.JSONField(default=dict, blank=True)
    next_if_yes = models.SlugField(max_length=60, blank=True)
    next_if_no = models.SlugField(max_length=60, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    answer = models.BooleanField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # What a step that acts did (the unit engaged, the command group sent, the camera shown,
    # the alert drafted), or {"action": "none", "reason": ...} when it was done without acting.
    evidence = models.JSONField(_("preuve"), default=dict, blank=True)

    class Meta:
        verbose_name = _("étape en cours")
        verbose_name_plural = _("étapes en cours")
        ordering = ["run", "order"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="step_run_key_unique")]

    def __str__(self):
        return f"{self.order}. {self.instruction}"
