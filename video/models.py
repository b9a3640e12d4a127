"""Cameras: where they are, what they stream, what is analysed, and what is never shown.

Zones, lines and privacy masks are drawn in normalised image coordinates (x, y in 0..1), so they
hold whatever resolution the stream is analysed at. The stream address never reaches a browser.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.models import Sector
from incidents.models.common import Located

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
    sensitive = models.BooleanField(
        _("sensible"), default=False,
        help_text=_("Son renvoi vers un écran mural demande l'accord d'un superviseur."),
    )
    enabled = models.BooleanField(_("en service"), default=True)
    online = models.BooleanField(_("en ligne"), default=False)
    last_frame_at = models.DateTimeField(_("dernière image reçue"), null=True, blank=True)
    measured_fps = models.FloatField(_("images par seconde mesurées"), null=True, blank=True)

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
