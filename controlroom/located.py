"""Shared model pieces: the severity scale and located objects (abstract, no table)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom import geo


class Level(models.IntegerChoices):
    """One scale for alert severity and incident priority: 1 is the most serious, as in P1."""

    CRITICAL = 1, _("1 · critique")
    HIGH = 2, _("2 · élevée")
    MODERATE = 3, _("3 · modérée")
    LOW = 4, _("4 · faible")


def level_field(verbose_name, default=Level.MODERATE):
    return models.PositiveSmallIntegerField(
        verbose_name,
        choices=Level.choices,
        default=default,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )


class Located(models.Model):
    """A WGS84 point with its H3 cell (resolution 9), kept in step by ``set_point``."""

    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    h3 = models.CharField(_("cellule H3"), max_length=16, db_index=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.lat is not None and self.lon is not None:
            self.h3 = geo.h3_cell(self.lat, self.lon)
        super().save(*args, **kwargs)

    def set_point(self, lat: float, lon: float) -> None:
        self.lat, self.lon = geo.check_point(lat, lon)
        self.h3 = geo.h3_cell(self.lat, self.lon)
