from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from controlroom import geo
from controlroom.models import Agency
from incidents.models.incidents import Incident

# Coarse H3 resolution (~1.2 km cells) used to pre-filter units around a point.
COARSE_RESOLUTION = 7


class Unit(models.Model):
    class Kind(models.TextChoices):
        PATROL_CAR = "patrol_car", _("Véhicule de patrouille")
        FOOT_PATROL = "foot_patrol", _("Patrouille pédestre")
        BIKE_PATROL = "bike_patrol", _("Brigade VTT")
        MOTORBIKE = "motorbike", _("Motocycliste")
        DOG_UNIT = "dog_unit", _("Brigade cynophile")
        FIRE_ENGINE = "fire_engine", _("Engin d'incendie")
        AMBULANCE = "ambulance", _("Ambulance")
        TOW_TRUCK = "tow_truck", _("Fourrière")
        TECHNICAL_TEAM = "technical_team", _("Équipe technique")

    class Status(models.TextChoices):
        AVAILABLE = "available", _("disponible")
        EN_ROUTE = "en_route", _("en route")
        ON_SCENE = "on_scene", _("sur place")
        UNAVAILABLE = "unavailable", _("indisponible")

    call_sign = models.CharField(_("indicatif"), max_length=40, unique=True)
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    agency = models.ForeignKey(
        Agency, verbose_name=_("agence"), on_delete=models.PROTECT, related_name="units"
    )
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.AVAILABLE, db_index=True
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    h3 = models.CharField(max_length=16, blank=True, db_index=True, editable=False)
    h3_coarse = models.CharField(max_length=16, blank=True, db_index=True, editable=False)
    position_at = models.DateTimeField(_("position reçue le"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("état modifié le"), null=True, blank=True)
    active = models.BooleanField(_("en service"), default=True)
    # Set on what an exercise created: shown with an "EXERCICE" banner, kept out of statistics
    # and of the real channels, purged at the end.
    exercise = models.ForeignKey("incidents.Exercise", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("exercice"))

    class Meta:
        verbose_name = _("unité")
        verbose_name_plural = _("unités")
        ordering = ["call_sign"]
        permissions = [("dispatch_unit", _("Engager une unité sur un incident"))]

    def __str__(self):
        return self.call_sign

    def set_point(self, lat: float, lon: float) -> None:
        self.lat, self.lon = geo.check_point(lat, lon)
        self.h3 = geo.h3_cell(self.lat, self.lon)
        self.h3_coarse = geo.h3_cell(self.lat, self.lon, COARSE_RESOLUTION)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


class Assignment(models.Model):
    """A unit engaged on an incident, from dispatch to release."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(_("engagée le"))
    distance_m = models.FloatField(_("distance estimée (m)"), null=True, blank=True)
    eta_seconds = models.FloatField(_("délai estimé (s)"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("sur place le"), null=True, blank=True)
    released_at = models.DateTimeField(_("libérée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(released_at=None), name="one_active_assignment_per_unit"
            ),
        ]

    def __str__(self):
        return f"{self.unit} → {self.incident.reference}"
