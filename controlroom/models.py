"""The control room's own data: agencies and users, the city and its sectors, the journal."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom import geo


class Agency(models.Model):
    class Kind(models.TextChoices):
        MUNICIPAL_POLICE = "municipal_police", _("Police municipale")
        NATIONAL_POLICE = "national_police", _("Police nationale")
        FIRE = "fire", _("Sapeurs-pompiers")
        HEALTH = "health", _("SAMU / hôpital")
        TRANSPORT = "transport", _("Opérateur de transport")
        CITY_SERVICES = "city_services", _("Services techniques de la ville")
        OTHER = "other", _("Autre")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=120, unique=True)
    kind = models.CharField(_("type"), max_length=30, choices=Kind.choices)
    # The agency that runs the control room: its staff see everything, other agencies only
    # what they take part in.
    operates_control_room = models.BooleanField(_("exploite le poste de pilotage"), default=False)

    class Meta:
        verbose_name = _("agence")
        verbose_name_plural = _("agences")
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agence"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        swappable = "AUTH_USER_MODEL"


def validate_polygon(value):
    try:
        geo.polygon_from_geojson(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class City(models.Model):
    name = models.CharField(_("nom"), max_length=120, unique=True)
    insee_code = models.CharField(_("code INSEE"), max_length=5, blank=True)
    boundary = models.JSONField(_("limite communale (GeoJSON)"), validators=[validate_polygon])

    class Meta:
        verbose_name = _("ville")
        verbose_name_plural = _("villes")

    def __str__(self):
        return self.name


class Sector(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="sectors")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("nom"), max_length=120)
    geometry = models.JSONField(_("périmètre (GeoJSON)"), validators=[validate_polygon])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("secteur")
        verbose_name_plural = _("secteurs")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "code"], name="sector_unique_code_per_city")
        ]

    def __str__(self):
        return self.name


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The journal is append-only.")

    def delete(self):
        raise PermissionError("The journal is append-only.")


class Event(models.Model):
    """One entry of the journal: append-only, ordered by ``seq``, chained by SHA-256."""

    seq = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    type = models.CharField(max_length=80, db_index=True)
    subject_app = models.CharField(max_length=40, blank=True)
    subject_model = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    actor_label = models.CharField(max_length=150)
    # Agencies other than the control room's own that may see this event; control-room staff
    # always see every event.
    agencies = models.JSONField(default=list, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement du journal")
        verbose_name_plural = _("journal")
        ordering = ["seq"]
        permissions = [
            ("view_all_events", _("Voir les événements de toutes les agences")),
        ]
        indexes = [models.Index(fields=["subject_app", "subject_model", "subject_id", "seq"])]

    def __str__(self):
        return f"#{self.seq} {self.type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The journal is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The journal is append-only.")


class EventAgency(models.Model):
    """Which agencies may see an event: an indexed join for scoped reads on any database."""

    event = models.ForeignKey(Event, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    agency_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency_id", "event"], name="event_agency_unique")
        ]


class JournalHead(models.Model):
    """The single row that writers lock to take the next sequence number."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("tête du journal")
