"""Cameras: where they are, what they stream, what is analysed, and what is never shown.

Zones, lines and privacy masks are drawn in normalised image coordinates (x, y in 0..1), so they
hold whatever resolution the stream is analysed at. The stream address never reaches a browser.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from controlroom.located import Located
from controlroom.models import Sector

MAX_SHAPES = 50
MAX_POINTS = 100


def _check_points(points, *, minimum: int, label: str) -> None:
    if not isinstance(points, list) or not minimum <= len(points) <= MAX_POINTS:
        raise ValidationError(
            _("%(label)s : entre %(min)s et %(max)s points.")
            % {"label": label, "min": minimum, "max": MAX_POINTS}
        )
    for point in points:
        if (not isinstance(point, (list, tuple)) or len(point) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
                or not all(0 <= v <= 1 for v in point)):
            raise ValidationError(
                _("%(label)s : chaque point est [x, y] avec x et y entre 0 et 1 (proportions "
                  "de l'image).") % {"label": label}
            )


def validate_zones(value) -> None:
    """[{"name", "kind": "zone"|"line", "points": [[x, y], …], "direction": [dx, dy]?}, …]"""
    if not isinstance(value, list) or len(value) > MAX_SHAPES:
        raise ValidationError(_("Les zones sont une liste (%(max)s au plus).") % {"max": MAX_SHAPES})
    names = set()
    for zone in value:
        if not isinstance(zone, dict) or not str(zone.get("name", "")).strip():
            raise ValidationError(_("Chaque zone a un nom."))
        name = str(zone["name"]).strip()
        if name in names:
            raise ValidationError(_("Deux zones portent le nom « %(name)s ».") % {"name": name})
        names.add(name)
        kind = zone.get("kind", "zone")
        if kind not in ("zone", "line"):
            raise ValidationError(_("Zone « %(name)s » : type « zone » ou « line ».")
                                  % {"name": name})
        _check_points(zone.get("points"), minimum=3 if kind == "zone" else 2,
                      label=_("Zone « %(name)s »") % {"name": name})
        direction = zone.get("direction")
        if direction is not None and (
                not isinstance(direction, list) or len(direction) != 2
                or not all(isinstance(v, (int, float)) for v in direction)
                or direction == [0, 0]):
            raise ValidationError(_("Zone « %(name)s » : la direction est [dx, dy], non nulle.")
                                  % {"name": name})


def validate_masks(value) -> None:
    """[[[x, y], …], …]: polygons always blacked out."""
    if not isinstance(value, list) or len(value) > MAX_SHAPES:
        raise ValidationError(_("Les masques sont une liste (%(max)s au plus).")
                              % {"max": MAX_SHAPES})
    for number, polygon in enumerate(value, 1):
        _check_points(polygon, minimum=3, label=_("Masque %(n)s") % {"n": number})


class Camera(Located):
    class Detector(models.TextChoices):
        PERSON = "person", _("Personnes (détecteur configuré)")
        MOTION = "motion", _("Tout objet en mouvement")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    sector = models.ForeignKey(Sector, verbose_name=_("secteur"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    # RTSP, HTTP (MJPEG) or a file path (demonstrations, tests). Never sent to a browser.
    stream_url = models.CharField(_("adresse du flux"), max_length=500)
    target_fps = models.FloatField(_("images analysées par seconde"), default=5.0)
    # {"rule name": {"params": {...}, "zones": ["zone name", ...], "schedule": {"start": "22:00",
    #  "end": "06:00", "days": [0, ...]}}, ...}
    analytics = models.JSONField(_("analyses activées"), default=dict, blank=True)
    zones = models.JSONField(_("zones et lignes d'analyse"), default=list, blank=True,
                             validators=[validate_zones])
    masks = models.JSONField(_("masques de confidentialité"), default=list, blank=True,
                             validators=[validate_masks])
    detector = models.CharField(
        _("détection"), max_length=20, choices=Detector.choices, default=Detector.PERSON,
        help_text=_("Les personnes (détecteur HOG ou modèle ONNX des réglages), ou tout objet "
                    "en mouvement (scènes sans piétons : quais, toits, parkings la nuit)."),
    )
    sensitive = models.BooleanField(
        _("sensible"), default=False,
        help_text=_("Son renvoi vers un écran mural demande l'accord d'un superviseur."),
    )
    enabled = models.BooleanField(_("en service"), default=True)
    online = models.BooleanField(_("en ligne"), default=False)
    last_frame_at = models.DateTimeField(_("dernière image reçue"), null=True, blank=True)
    measured_fps = models.FloatField(_("images par seconde mesurées"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    # The analysis loop: whoever holds the lease analyses the camera until ``lease_until``;
    # ``position`` is where a file stream resumes; failures delay the next attempt.
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    position = models.FloatField(default=0.0, editable=False)
    failures = models.PositiveIntegerField(_("échecs de connexion consécutifs"), default=0,
                                           editable=False)
    retry_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True,
                                    editable=False)

    class Meta:
        verbose_name = _("caméra")
        verbose_name_plural = _("caméras")
        ordering = ["name"]
        permissions = [
            ("view_live", _("Voir le direct d'une caméra")),
            ("view_unblurred", _("Voir une image non floutée (motif obligatoire)")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from video.analytics.rules import RULES

        if not isinstance(self.analytics, dict):
            raise ValidationError({"analytics": _("Les analyses sont un objet JSON.")})
        names = {zone["name"] for zone in self.zones or [] if isinstance(zone, dict)}
        for rule, config in self.analytics.items():
            if rule not in RULES:
                raise ValidationError({"analytics": _("Analyse inconnue : « %(rule)s ».")
                                       % {"rule": rule}})
            if not isinstance(config, dict):
                raise ValidationError({"analytics": _("« %(rule)s » : un objet JSON est "
                                                      "attendu.") % {"rule": rule}})
            missing = set(config.get("zones", [])) - names
            if missing:
                raise ValidationError({"analytics": _("« %(rule)s » : zone(s) inconnue(s) : "
                                                      "%(zones)s.") % {
                    "rule": rule, "zones": ", ".join(sorted(missing))}})
        from video.analysis import camera_rules

        try:
            camera_rules(self)  # parameters, schedules and zone kinds, as the workers build them
        except (KeyError, TypeError, ValueError) as error:
            raise ValidationError({"analytics": str(error)}) from error


def _snapshot_path(instance, filename):
    # A random name: knowing one snapshot's address tells nothing of another's.
    return f"video/snapshots/{timezone.now():%Y/%m/%d}/{secrets.token_hex(16)}.jpg"


class Snapshot(models.Model):
    """Evidence of an event: a still, masked, with faces and (by default) persons blurred.

    The unblurred still (masks applied all the same) is shown only to who may, with a reason,
    and every such view is journaled. Both files go when the snapshot expires.
    """

    camera = models.ForeignKey(Camera, verbose_name=_("caméra"), on_delete=models.PROTECT,
                               related_name="snapshots")
    taken_at = models.DateTimeField(_("prise le"))
    image = models.FileField(_("image floutée"), upload_to=_snapshot_path)
    unblurred = models.FileField(_("image non floutée"), upload_to=_snapshot_path, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    expires_at = models.DateTimeField(_("expire le"), db_index=True)

    class Meta:
        verbose_name = _("image de preuve")
        verbose_name_plural = _("images de preuve")
        ordering = ["-taken_at"]

    def __str__(self):
        return f"{self.camera} · {self.taken_at:%d/%m/%Y %H:%M:%S}"


class VideoEvent(models.Model):
    """What a rule saw on a camera, once: ``key`` makes recording it again a no-op."""

    key = models.CharField(_("clé"), max_length=64, unique=True)
    camera = models.ForeignKey(Camera, verbose_name=_("caméra"), on_delete=models.PROTECT,
                               related_name="events")
    rule = models.CharField(_("analyse"), max_length=40)
    zone = models.CharField(_("zone"), max_length=120, blank=True)
    confidence = models.FloatField(_("confiance"))
    occurred_at = models.DateTimeField(_("survenu le"), db_index=True)
    details = models.JSONField(_("détails"), default=dict, blank=True)
    alert = models.ForeignKey("incidents.Alert", verbose_name=_("alerte"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="video_events")
    snapshot = models.ForeignKey(Snapshot, verbose_name=_("image"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="events")

    class Meta:
        verbose_name = _("événement vidéo")
        verbose_name_plural = _("événements vidéo")
        ordering = ["-occurred_at"]

    def __str__(self):
        return f"{self.rule} · {self.camera}"


class ZoneStatistic(models.Model):
    """People in a zone and crossings of a line over a period: numbers only, never an image."""

    camera = models.ForeignKey(Camera, verbose_name=_("caméra"), on_delete=models.PROTECT,
                               related_name="statistics")
    zone = models.CharField(_("zone ou ligne"), max_length=120)
    period_start = models.DateTimeField(_("début de la période"), db_index=True)
    samples = models.PositiveIntegerField(_("mesures"), default=0)
    people_sum = models.PositiveIntegerField(_("somme des personnes comptées"), default=0)
    people_max = models.PositiveIntegerField(_("personnes au plus"), default=0)
    # Side "a" is on the left of someone walking the line from its first point to its last.
    crossings_forward = models.PositiveIntegerField(_("passages du côté A vers B"), default=0)
    crossings_backward = models.PositiveIntegerField(_("passages du côté B vers A"), default=0)

    class Meta:
        verbose_name = _("statistique de fréquentation")
        verbose_name_plural = _("statistiques de fréquentation")
        ordering = ["-period_start", "camera", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "zone", "period_start"],
                                    name="video_statistic_unique_period"),
        ]

    @property
    def people_mean(self) -> float:
        return self.people_sum / self.samples if self.samples else 0.0


class Screen(models.Model):
    """A wall screen or monitor of the room; its page shows the camera routed to it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    place = models.CharField(_("emplacement"), max_length=120, blank=True)
    camera = models.ForeignKey(Camera, verbose_name=_("caméra affichée"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    routed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    routed_at = models.DateTimeField(_("affichée depuis"), null=True, blank=True)

    class Meta:
        verbose_name = _("écran")
        verbose_name_plural = _("écrans")
        ordering = ["name"]
        permissions = [
            ("route_screen", _("Envoyer une caméra sur un écran")),
            ("approve_sensitive_routing", _("Autoriser l'affichage d'une caméra sensible")),
        ]

    def __str__(self):
        return self.name


class ScreenRouting(models.Model):
    """A request to show a sensitive camera on a screen, waiting for a supervisor."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente d'accord")
        APPROVED = "approved", _("accordé")
        REJECTED = "rejected", _("refusé")
        CANCELLED = "cancelled", _("remplacé")

    screen = models.ForeignKey(Screen, verbose_name=_("écran"), on_delete=models.CASCADE,
                               related_name="routings")
    camera = models.ForeignKey(Camera, verbose_name=_("caméra"), on_delete=models.CASCADE,
                               related_name="+")
    status = models.CharField(_("état"), max_length=20, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(_("demandé le"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("demande d'affichage")
        verbose_name_plural = _("demandes d'affichage")
        ordering = ["-requested_at"]
