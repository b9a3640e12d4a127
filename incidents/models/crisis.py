"""Crisis room: a crisis, its shared map drawings, its logbook and its decisions and tasks."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.models import Agency, AppendOnlyQuerySet, validate_polygon
from incidents.models.incidents import Incident


class Crisis(models.Model):
    class Kind(models.TextChoices):
        FLOOD = "flood", _("Inondation")
        FIRE = "fire", _("Incendie")
        PUBLIC_ORDER = "public_order", _("Troubles à l'ordre public")
        GATHERING = "gathering", _("Grand rassemblement")
        TECHNOLOGICAL = "technological", _("Accident technologique")
        WEATHER = "weather", _("Intempéries")
        OTHER = "other", _("Autre")

    class Status(models.TextChoices):
        OPEN = "open", _("ouverte")
        CLOSED = "closed", _("close")

    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("titre"), max_length=200)
    area = models.JSONField(_("zone (GeoJSON)"), null=True, blank=True,
                            validators=[validate_polygon])
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    opened_at = models.DateTimeField(_("ouverte le"))
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    summary = models.TextField(_("bilan"), blank=True)
    incidents = models.ManyToManyField(Incident, blank=True, related_name="crises")
    # Partner agencies invited: their liaisons take part while the crisis is open.
    agencies = models.ManyToManyField(Agency, blank=True, related_name="crises")

    class Meta:
        verbose_name = _("crise")
        verbose_name_plural = _("crises")
        ordering = ["-opened_at"]
        permissions = [("manage_crisis", _("Ouvrir, conduire et clore une crise"))]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Drawing(models.Model):
    """A shape of the crisis map, as GeoJSON geometry (RFC 7946: lon, lat)."""

    class Kind(models.TextChoices):
        PERIMETER = "perimeter", _("Périmètre de sécurité")
        CLOSED_ROAD = "closed_road", _("Voie fermée")
        ASSEMBLY_POINT = "assembly_point", _("Point de rassemblement")
        EVACUATION_ZONE = "evacuation_zone", _("Zone d'évacuation")

    # The geometry each kind is drawn as.
    GEOMETRY = {Kind.PERIMETER: "Polygon", Kind.CLOSED_ROAD: "LineString",
                Kind.ASSEMBLY_POINT: "Point", Kind.EVACUATION_ZONE: "Polygon"}

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="drawings")
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    label = models.CharField(_("libellé"), max_length=120, blank=True)
    geometry = models.JSONField(_("géométrie (GeoJSON)"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tracé de crise")
        verbose_name_plural = _("tracés de crise")
        ordering = ["pk"]


class LogEntry(models.Model):
    """An entry of the crisis logbook ("main courante"): never changed nor deleted; a mistake
    is corrected by a new entry that points at it."""

    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="log")
    at = models.DateTimeField(_("le"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_label = models.CharField(_("auteur"), max_length=150)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    text = models.TextField(_("texte"))
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="corrections")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("entrée de main courante")
        verbose_name_plural = _("main courante")
        ordering = ["at", "pk"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The crisis logbook is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The crisis logbook is append-only.")


class Task(models.Model):
    """A decision taken, or a task given to an agency, and where it stands."""

    class Kind(models.TextChoices):
        DECISION = "decision", _("Décision")
        TASK = "task", _("Tâche")

    class Status(models.TextChoices):
        TODO = "todo", _("à faire")
        IN_PROGRESS = "in_progress", _("en cours")
        DONE = "done", _("faite")
        CANCELLED = "cancelled", _("annulée")

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("intitulé"), max_length=300)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("agence chargée"))
    status = models.CharField(_("état"), max_length=20, choices=Status.choices,
                              default=Status.TODO)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("décision ou tâche")
        verbose_name_plural = _("décisions et tâches")
        ordering = ["pk"]
