"""The observatory's data: one fact table that every source feeds, the context (weather, public
events) and the forecasts with their measured accuracy. Only aggregated, non-personal data:
a fact is a time, a place (H3 cell, sector), a category, a source and a weight — never a name,
a text or an image."""

from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext_lazy as _

PARIS = ZoneInfo("Europe/Paris")


class Fact(models.Model):
    class Source(models.TextChoices):
        ALERT = "alert", _("Alerte")
        INCIDENT = "incident", _("Incident")
        CITIZEN_REPORT = "citizen_report", _("Signalement citoyen")
        SENSOR = "sensor", _("Capteur")
        VIDEO = "video", _("Vidéo")
        IMPORT = "import", _("Import")
        SYNTHETIC = "synthetic", _("Historique synthétique")

    time = models.DateTimeField(_("date"))
    hour = models.DateTimeField(_("heure"))  # the time truncated to the hour
    h3 = models.CharField(_("cellule H3"), max_length=16)  # resolution 9
    sector = models.ForeignKey("controlroom.Sector", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    category = models.SlugField(_("catégorie"), max_length=60)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    weight = models.FloatField(_("poids"), default=1.0)
    # What the fact comes from ("alert:12", "import:3:<row digest>"): feeding twice adds nothing.
    origin = models.CharField(max_length=120, unique=True)
    # The local (Europe/Paris) day, weekday (1 = Monday) and hour, kept so that dashboards
    # group on plain columns instead of converting a million times.
    local_day = models.DateField()
    local_dow = models.PositiveSmallIntegerField()
    local_hour = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("fait")
        verbose_name_plural = _("faits")
        indexes = [
            models.Index(fields=["hour"]),
            models.Index(fields=["category", "hour"]),
            models.Index(fields=["sector", "hour"]),
            models.Index(fields=["h3", "hour"]),
            models.Index(fields=["local_day"]),
        ]
        permissions = [("view_observatory", _("Consulter l'observatoire"))]

    @classmethod
    def of(cls, *, time, **fields) -> "Fact":
        """A fact at ``time`` with its hour and local day, weekday and hour filled in."""
        local = time.astimezone(PARIS)
        return cls(time=time, hour=time.replace(minute=0, second=0, microsecond=0),
                   local_day=local.date(), local_dow=local.isoweekday(),
                   local_hour=local.hour, **fields)


class DailyCount(models.Model):
    """Facts per local day, sector, category and source: what most dashboards sum, a few
    hundred thousand rows where the facts are millions. Rebuilt for the days facts land on."""

    day = models.DateField()
    sector = models.ForeignKey("controlroom.Sector", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    category = models.SlugField(max_length=60)
    source = models.CharField(max_length=20)
    count = models.PositiveIntegerField()
    weight = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["day", "category"])]


class WeatherHour(models.Model):
    hour = models.DateTimeField(_("heure"), unique=True)
    temperature_c = models.FloatField(_("température (°C)"), null=True, blank=True)
    rain_mm = models.FloatField(_("pluie (mm)"), default=0)

    class Meta:
        verbose_name = _("météo horaire")
        verbose_name_plural = _("météo horaire")


class PublicEvent(models.Model):
    name = models.CharField(_("nom"), max_length=200)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    lat = models.FloatField()
    lon = models.FloatField()
    h3 = models.CharField(max_length=16)
    attendance = models.PositiveIntegerField(_("affluence attendue"), null=True, blank=True)
    origin = models.CharField(max_length=120, unique=True)

    class Meta:
        verbose_name = _("événement public")
        verbose_name_plural = _("événements publics")
        ordering = ["starts_at"]


class ForecastRun(models.Model):
    """A 7-day forecast and the evaluation of its model on held-out weeks."""

    created_at = models.DateTimeField(_("calculée le"))
    origin = models.DateTimeField(_("début de la prévision"))
    model = models.CharField(_("modèle"), max_length=120)
    coefficients = models.JSONField(default=dict)
    # Hold-out evaluation: weeks, share of area, hit rate and PAI of the model and the baseline,
    # the data it was measured on (date range, facts).
    evaluation = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("prévision")
        verbose_name_plural = _("prévisions")
        ordering = ["-created_at"]


class ForecastCell(models.Model):
    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="cells")
    h3 = models.CharField(max_length=16)
    # Expected facts over the 7 days, and per hour of the week from the origin (168 values).
    expected_week = models.FloatField()
    expected_hours = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "h3"], name="forecast_cell_unique")]


class ImportSource(models.Model):
    """An outside data source and how its files' columns map to the observatory's fields;
    saved, so that next month's export imports the same way."""

    class Kind(models.TextChoices):
        LOGBOOK = "logbook", _("Main courante de police municipale")
        DAMAGE = "damage", _("Signalements de dégradations du domaine public")
        WEATHER = "weather", _("Historique météo")
        EVENTS = "events", _("Calendrier des événements publics")

    # The observatory's fields each kind reads (the mapping gives each one's column name).
    FIELDS = {
        Kind.LOGBOOK: ("time", "lat", "lon", "category"),
        Kind.DAMAGE: ("time", "lat", "lon", "category"),
        Kind.WEATHER: ("time", "rain_mm", "temperature_c"),
        Kind.EVENTS: ("name", "start", "end", "lat", "lon", "attendance"),
    }
    OPTIONAL = {"weight", "temperature_c", "attendance", "end"}

    name = models.CharField(_("nom"), max_length=120, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    mapping = models.JSONField(_("correspondance des colonnes"), default=dict)
    # Source category label → taxonomy code ("Tapage nocturne" → "nuisance_sonore").
    categories = models.JSONField(_("correspondance des catégories"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("source importée")
        verbose_name_plural = _("sources importées")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ImportRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")
        FAILED = "failed", _("échoué")

    source = models.ForeignKey(ImportSource, on_delete=models.PROTECT, related_name="runs")
    file_name = models.CharField(_("fichier"), max_length=200)
    # Where the upload waits for the worker; removed once read (the file may hold personal
    # data: only the mapped columns are ever kept).
    path = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": n, "reasons": [...]}]
    message = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey("controlroom.User", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        permissions = [("import_data", _("Importer des données dans l'observatoire"))]

    @property
    def progress(self) -> int:
        return round(100 * self.processed / self.total) if self.total else (
            100 if self.status == self.Status.DONE else 0)
