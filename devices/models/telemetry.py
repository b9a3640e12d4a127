"""Telemetry from the devices: raw readings, their rolled-up buckets, and the threshold rules
that turn them into alerts, with each rule's running state."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.models import Sector
from devices.models.devices import Device


class TelemetryReading(models.Model):
    """A raw reading; kept for a while (``TELEMETRY_RAW_RETENTION_HOURS``), then only buckets."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings")
    metric = models.CharField(_("mesure"), max_length=30)
    value = models.FloatField(_("valeur"))
    at = models.DateTimeField(_("le"))

    class Meta:
        verbose_name = _("mesure brute")
        verbose_name_plural = _("mesures brutes")
        indexes = [models.Index(fields=["device", "metric", "at"])]


class TelemetryBucket(models.Model):
    """Aggregates of a device's metric over a fixed period (15 min), kept for statistics."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="buckets")
    metric = models.CharField(_("mesure"), max_length=30)
    start = models.DateTimeField(_("début"))
    seconds = models.PositiveIntegerField(_("durée (s)"))
    count = models.PositiveIntegerField()
    mean = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()
    leq = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("agrégat de mesures")
        verbose_name_plural = _("agrégats de mesures")
        constraints = [models.UniqueConstraint(fields=["device", "metric", "seconds", "start"],
                                               name="telemetry_bucket_unique")]


class TelemetryRule(models.Model):
    """A threshold on a metric that raises an alert while it holds (once per episode)."""

    class Comparison(models.TextChoices):
        ABOVE = ">", _("au-dessus de")
        AT_LEAST = ">=", _("au moins")
        BELOW = "<", _("en dessous de")
        AT_MOST = "<=", _("au plus")

    class Aggregation(models.TextChoices):
        INSTANT = "instant", _("valeur instantanée")
        MEAN = "mean", _("moyenne")
        LEQ = "leq", _("niveau équivalent (Leq)")
        MAX = "max", _("maximum")
        MIN = "min", _("minimum")

    name = models.CharField(_("nom"), max_length=120)
    metric = models.CharField(_("mesure"), max_length=30,
                              help_text=_("laeq_db, people, pm25, pm10, no2…"))
    comparison = models.CharField(_("comparaison"), max_length=2, choices=Comparison.choices)
    threshold = models.FloatField(_("seuil"))
    aggregation = models.CharField(_("agrégation"), max_length=10, choices=Aggregation.choices)
    window_seconds = models.PositiveIntegerField(_("fenêtre d'agrégation (s)"), default=0)
    duration_seconds = models.PositiveIntegerField(_("durée minimale (s)"), default=0)
    time_start = models.TimeField(_("de (heure)"), null=True, blank=True)
    time_end = models.TimeField(_("à (heure)"), null=True, blank=True)
    days = models.JSONField(_("jours (0 = lundi)"), default=list, blank=True)
    sectors = models.ManyToManyField(Sector, verbose_name=_("secteurs"), blank=True,
                                     related_name="+")
    category = models.ForeignKey("incidents.Category", verbose_name=_("catégorie d'alerte"),
                                 on_delete=models.PROTECT, related_name="+")
    severity = models.PositiveSmallIntegerField(_("gravité"), default=3)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("règle de télémesure")
        verbose_name_plural = _("règles de télémesure")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def spec(self):
        """The rule as the evaluation module takes it (raises RuleError when inconsistent)."""
        from devices import telemetry_rules as engine

        window = None
        if self.time_start is not None and self.time_end is not None:
            window = engine.TimeWindow(self.time_start, self.time_end,
                                       frozenset(self.days) if self.days else engine.ALL_DAYS)
        return engine.Rule(metric=self.metric, comparison=self.comparison,
                           threshold=self.threshold, aggregation=self.aggregation,
                           window_seconds=self.window_seconds,
                           duration_seconds=self.duration_seconds, time_window=window)

    def clean(self):
        from django.core.exceptions import ValidationError

        from devices import telemetry_rules as engine

        if (self.time_start is None) != (self.time_end is None):
            raise ValidationError(_("Indiquez les deux heures de la plage, ou aucune."))
        try:
            self.spec()
        except (engine.RuleError, ValueError, TypeError) as exc:
            raise ValidationError(str(exc)) from None


class TelemetryRuleState(models.Model):
    """Whether a rule currently holds for a device, and the alert it raised."""

    rule = models.ForeignKey(TelemetryRule, on_delete=models.CASCADE, related_name="states")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    holding = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey("incidents.Alert", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "device"],
                                               name="telemetry_rule_state_unique")]
