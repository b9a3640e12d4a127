"""Street devices, the commands sent to them, and groups of commands.

A command has an id that travels with it to the device (``Command.uid``), so a device that
receives it twice acts once. Every status change goes through ``devices.services``, which
journals it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.located import Located
from controlroom.models import Sector
from devices import cap, capabilities
from incidents.models import Incident

KIND_CHOICES = [(code, _(label)) for code, label in capabilities.choices()]


class Device(Located):
    class Driver(models.TextChoices):
        SIMULATOR = "simulator", _("Simulateur (intégré)")
        MQTT = "mqtt", _("MQTT")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    kind = models.CharField(_("type"), max_length=30, choices=KIND_CHOICES)
    sector = models.ForeignKey(
        Sector, verbose_name=_("secteur"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    driver = models.CharField(_("pilote"), max_length=20, choices=Driver.choices,
                              default=Driver.SIMULATOR)
    # The device's id in its gateway's topics: <prefix>/devices/<address>/cmd …
    address = models.CharField(_("adresse (topic)"), max_length=120, unique=True)
    state = models.JSONField(_("état rapporté"), default=dict, blank=True)
    last_seen_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)
    online = models.BooleanField(_("en ligne"), default=True)
    heartbeat_seconds = models.PositiveIntegerField(
        _("délai avant « hors ligne » (s)"), default=300,
        help_text=_("Sans nouvelle de l'équipement pendant ce délai, une alerte est créée."),
    )
    active = models.BooleanField(_("en service"), default=True)
    # Settings of the built-in simulator for this device, e.g. {"noise_offset_db": 25}.
    simulation = models.JSONField(_("réglages du simulateur"), default=dict, blank=True)

    class Meta:
        verbose_name = _("équipement")
        verbose_name_plural = _("équipements")
        ordering = ["kind", "name"]
        permissions = [
            ("command_device", _("Commander un équipement")),
            ("approve_command", _("Approuver une commande critique")),
        ]

    def __str__(self):
        return self.name

    @property
    def spec(self) -> capabilities.Kind:
        return capabilities.KINDS[self.kind]


class CommandGroup(models.Model):
    """Several devices commanded at once (e.g. every street light within 200 m of an incident)."""

    label = models.CharField(_("intitulé"), max_length=200)
    kind = models.CharField(_("type d'équipement"), max_length=30, choices=KIND_CHOICES)
    action = models.CharField(_("action"), max_length=40)
    params = models.JSONField(_("paramètres"), default=dict, blank=True)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="device_command_groups")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("demandée le"))

    class Meta:
        verbose_name = _("commande groupée")
        verbose_name_plural = _("commandes groupées")
        ordering = ["-requested_at"]

    def __str__(self):
        return self.label


class Command(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("demandée")
        AWAITING_APPROVAL = "awaiting_approval", _("en attente d'approbation")
        SENT = "sent", _("envoyée")
        RETRYING = "retrying", _("nouvel essai prévu")
        ACKNOWLEDGED = "acknowledged", _("reçue par l'équipement")
        DONE = "done", _("exécutée")
        FAILED = "failed", _("en échec")
        TIMED_OUT = "timed_out", _("sans réponse")
        REJECTED = "rejected", _("refusée")

    FINAL = (Status.DONE, Status.FAILED, Status.TIMED_OUT, Status.REJECTED)
    # On their way to a device, watched by the reconciler (approval waits for a person).
    UNDER_WAY = (Status.REQUESTED, Status.SENT, Status.RETRYING)

    uid = models.UUIDField(_("identifiant de commande"), default=uuid.uuid4, unique=True,
                           editable=False)
    device = models.ForeignKey(Device, verbose_name=_("équipement"), on_delete=models.PROTECT,
                               related_name="commands")
    group = models.ForeignKey(CommandGroup, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="commands")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="device_commands")
    action = models.CharField(_("action"), max_length=40)
    params = models.JSONField(_("paramètres"), default=dict, blank=True)
    critical = models.BooleanField(_("critique"), default=False)
    status = models.CharField(_("état"), max_length=20, choices=Status.choices,
                              default=Status.REQUESTED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("demandée le"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("décision le"), null=True, blank=True)
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("envois"), default=0)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("reçue le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    error = models.CharField(_("erreur"), max_length=300, blank=True)
    # Set when the command is queued: if it has not moved on by ``check_at`` (its task message
    # or its worker was lost), the reconciler sends it again; it is final by ``deadline``.
    check_at = models.DateTimeField(_("à vérifier le"), null=True, blank=True)
    deadline = models.DateTimeField(_("échéance"), null=True, blank=True)

    class Meta:
        verbose_name = _("commande")
        verbose_name_plural = _("commandes")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["device", "requested_at"])]

    def __str__(self):
        return f"{self.device} · {self.action}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    def message(self) -> dict:
        """What travels to the device: the command id makes a second delivery harmless."""
        return {"command": str(self.uid), "action": self.action, "params": self.params}


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

    identifier = models.CharField(_("identifiant CAP"), max_length=80, blank=True, db_index=True)
    msg_type = models.CharField(_("type de message"), max_length=10, choices=MsgType.choices,
                                default=MsgType.ALERT)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT, db_index=True)
    references = models.ForeignKey("self", verbose_name=_("message précédent"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="followups")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL,
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


class SoundSensor(models.Model):
    """The sound analysis of a device of kind ``sound_sensor``: where its audio comes from, when
    it listens and what it detects. Audio is analysed in memory and never kept."""

    class Source(models.TextChoices):
        STREAM = "stream", _("Flux (RTSP, HTTP ou fichier)")
        MQTT = "mqtt", _("Trames PCM publiées en MQTT par le capteur")

    device = models.OneToOneField(Device, verbose_name=_("équipement"), on_delete=models.CASCADE,
                                  related_name="sound")
    source = models.CharField(_("source du son"), max_length=10, choices=Source.choices,
                              default=Source.STREAM)
    # RTSP, HTTP or a file path (demonstrations, tests). Never sent to a browser or journaled.
    stream_url = models.CharField(_("adresse du flux"), max_length=500, blank=True)
    sample_rate = models.PositiveIntegerField(_("fréquence d'analyse (Hz)"), default=16000)
    purpose = models.CharField(
        _("finalité"), max_length=300,
        help_text=_("Affichée sur la page publique des capteurs sonores."),
    )
    # When the sensor listens at all; no hours means always.
    listen_start = models.TimeField(_("écoute de (heure)"), null=True, blank=True)
    listen_end = models.TimeField(_("écoute jusqu'à (heure)"), null=True, blank=True)
    listen_days = models.JSONField(_("jours d'écoute (0 = lundi)"), default=list, blank=True)
    detections = models.JSONField(_("détections activées"), default=list, blank=True,
                                  help_text=_("detonation, scream, glass, music"))
    # Loud music counts only in this window ("tapage nocturne").
    night_start = models.TimeField(_("nuit à partir de"), default="22:00")
    night_end = models.TimeField(_("nuit jusqu'à"), default="07:00")
    music_threshold_db = models.FloatField(_("seuil de musique (dB(A))"), default=65.0)
    music_min_seconds = models.PositiveIntegerField(_("durée minimale de musique (s)"),
                                                    default=120)
    calibration_db = models.FloatField(
        _("calibration (dB SPL à pleine échelle)"), default=120.0,
        help_text=_("Niveau sonore d'un signal numérique de valeur efficace maximale."),
    )
    enabled = models.BooleanField(_("analyse en service"), default=True)
    last_audio_at = models.DateTimeField(_("dernier son reçu"), null=True, blank=True,
                                         editable=False)
    rejected_frames = models.PositiveBigIntegerField(_("trames refusées"), default=0,
                                                     editable=False)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True,
                                  editable=False)
    # The analysis loop (controlroom.leases).
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    failures = models.PositiveIntegerField(_("échecs de connexion consécutifs"), default=0,
                                           editable=False)
    retry_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True,
                                    editable=False)

    class Meta:
        verbose_name = _("capteur sonore")
        verbose_name_plural = _("capteurs sonores")
        ordering = ["device__name"]

    def __str__(self):
        return str(self.device)

    def clean(self):
        from django.core.exceptions import ValidationError

        from devices.acoustics.types import KINDS

        errors = {}
        if self.device_id and self.device.kind != "sound_sensor":
            errors["device"] = _("L'équipement doit être de type « capteur sonore ».")
        if self.source == self.Source.STREAM and not self.stream_url.strip():
            errors["stream_url"] = _("Indiquez l'adresse du flux audio.")
        if (self.listen_start is None) != (self.listen_end is None):
            errors["listen_end"] = _("Indiquez les deux heures d'écoute, ou aucune.")
        days = self.listen_days or []
        if not isinstance(days, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days):
            errors["listen_days"] = _("Les jours sont une liste de 0 (lundi) à 6 (dimanche).")
        detections = self.detections or []
        if not isinstance(detections, list) or not set(detections) <= set(KINDS):
            errors["detections"] = _("Détections possibles : %(kinds)s.") % {
                "kinds": ", ".join(KINDS)}
        if not 8000 <= self.sample_rate <= 48000:
            errors["sample_rate"] = _("Entre 8000 et 48000 Hz.")
        if not 40 <= self.music_threshold_db <= 120:
            errors["music_threshold_db"] = _("Entre 40 et 120 dB(A).")
        if not 10 <= self.music_min_seconds <= 3600:
            errors["music_min_seconds"] = _("Entre 10 et 3600 secondes.")
        if not 80 <= self.calibration_db <= 160:
            errors["calibration_db"] = _("Entre 80 et 160 dB.")
        if errors:
            raise ValidationError(errors)


class SoundLocation(Located):
    """Where an impulse heard by three sensors or more came from (multilateration)."""

    kind = models.CharField(_("type"), max_length=30)
    emitted_at = models.DateTimeField(_("émis le"))
    # Until three sensors have heard it: the first sensor's place, and no radius.
    radius_m = models.FloatField(_("rayon d'incertitude (m)"), null=True, blank=True)
    sensors = models.JSONField(_("capteurs retenus"), default=list)
    rejected = models.JSONField(_("arrivées écartées (échos)"), default=list)
    residual_ms = models.FloatField(_("écart résiduel (ms)"), null=True, blank=True)
    alert = models.ForeignKey("incidents.Alert", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    updated_at = models.DateTimeField(_("mise à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("localisation acoustique")
        verbose_name_plural = _("localisations acoustiques")
        ordering = ["-emitted_at"]

    @property
    def located(self) -> bool:
        return self.radius_m is not None


class SoundEvent(models.Model):
    """A sound event a sensor detected: its type, confidence, time and levels, never audio."""

    key = models.CharField(max_length=40, unique=True, editable=False)
    sensor = models.ForeignKey(SoundSensor, verbose_name=_("capteur"), on_delete=models.CASCADE,
                               related_name="events")
    kind = models.CharField(_("type"), max_length=30, db_index=True)
    confidence = models.FloatField(_("confiance"))
    # Sensor time of the onset (the arrival, for impulses), to the microsecond.
    started_at = models.DateTimeField(_("début"), db_index=True)
    ended_at = models.DateTimeField(_("fin"))
    peak_db = models.FloatField(_("niveau max (dB(A))"))
    laeq_db = models.FloatField(_("niveau équivalent (dB(A))"))
    bands = models.JSONField(_("niveaux par bande d'octave (dB)"), default=dict)
    alert = models.ForeignKey("incidents.Alert", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    location = models.ForeignKey(SoundLocation, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="events")

    class Meta:
        verbose_name = _("événement sonore")
        verbose_name_plural = _("événements sonores")
        ordering = ["-started_at"]
