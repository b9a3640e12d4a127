"""Sound sensors and what they yield: events and their locations, never audio."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.located import Located
from devices.models.devices import Device


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
