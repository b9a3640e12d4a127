"""Citizens' reports: the services the city publishes, the reports, their photos and updates.

A service is what Open311 calls a "service" and the public form a "catégorie": it maps onto one
incident category, so every report lands in the operators' inbox as an alert of that category.
Personal data is kept to what the citizen chose to give, and can be erased at any time.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from controlroom.located import Level, Located, level_field

# Crockford's base 32 without I, L, O, U: no two characters look alike on a phone screen.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4


def new_tracking_code() -> str:
    """A random tracking code such as ``7K4M-Q2XP-9D3A`` (60 bits: not guessable)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LENGTH))
    return "-".join(
        chars[i:i + CODE_GROUP_LENGTH] for i in range(0, len(chars), CODE_GROUP_LENGTH)
    )


def normalise_tracking_code(value: str) -> str:
    """What a citizen typed, in canonical form (case, spaces, look-alike letters forgiven)."""
    raw = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    raw = raw.translate(str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"}))
    if len(raw) != CODE_GROUPS * CODE_GROUP_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return ""
    return "-".join(raw[i:i + CODE_GROUP_LENGTH] for i in range(0, len(raw), CODE_GROUP_LENGTH))


class Service(models.Model):
    """A kind of problem citizens may report (an Open311 service)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    group = models.CharField(_("groupe"), max_length=80, blank=True)
    keywords = models.CharField(_("mots-clés"), max_length=200, blank=True)
    category = models.ForeignKey(
        "incidents.Category", verbose_name=_("catégorie d'alerte"), on_delete=models.PROTECT,
        related_name="citizen_services",
    )
    severity = level_field(_("gravité de l'alerte"), default=Level.LOW)
    # Reports of this service within this distance and time of an open one join its alert.
    group_radius_m = models.PositiveIntegerField(_("rayon de regroupement (m)"), default=75)
    group_window_hours = models.PositiveIntegerField(_("fenêtre de regroupement (h)"), default=24)
    # Whether the public Open311 list shows the description and the exact place. Off for
    # services whose reports may name or locate people (nuisances, security).
    publish_details = models.BooleanField(_("publier le détail des signalements"), default=True)
    active = models.BooleanField(_("actif"), default=True)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("service proposé aux citoyens")
        verbose_name_plural = _("services proposés aux citoyens")
        ordering = ["order", "group", "name"]

    def __str__(self):
        return self.name


class ServiceAttribute(models.Model):
    """An extra question of a service (an Open311 attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("texte court")
        NUMBER = "number", _("nombre")
        DATETIME = "datetime", _("date et heure")
        TEXT = "text", _("texte long")
        SINGLE = "singlevaluelist", _("choix unique")
        MULTI = "multivaluelist", _("choix multiple")

    LISTS = (Datatype.SINGLE, Datatype.MULTI)

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField(_("code"), max_length=50)
    datatype = models.CharField(_("type"), max_length=20, choices=Datatype.choices)
    description = models.CharField(_("question"), max_length=255)
    datatype_description = models.CharField(_("aide à la saisie"), max_length=255, blank=True)
    required = models.BooleanField(_("obligatoire"), default=False)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    # For list types: [{"key": "...", "name": "..."}, ...]
    values = models.JSONField(_("valeurs"), default=list, blank=True)

    class Meta:
        verbose_name = _("question complémentaire")
        verbose_name_plural = _("questions complémentaires")
        ordering = ["service", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="service_attribute_unique"),
        ]

    def __str__(self):
        return f"{self.service} · {self.description}"

    def value_keys(self) -> list[str]:
        return [str(value.get("key")) for value in self.values or []]


class ClientApplication(models.Model):
    """An application allowed to post Open311 requests, with its own API key.

    Only a SHA-256 digest of the key is stored; the key is shown once, when issued.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(_("début de la clé"), max_length=8, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernier envoi"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("application Open311")
        verbose_name_plural = _("applications Open311")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def issue_key(self) -> str:
        """A new random API key; the previous one stops working. Returns it in clear, once."""
        key = secrets.token_urlsafe(24)
        self.key_digest = self.digest(key)
        self.key_hint = key[:6]
        return key

    @property
    def actor_label(self) -> str:
        return f"open311:{self.code}"


class Report(Located):
    class Status(models.TextChoices):
        RECEIVED = "received", _("reçu")
        IN_PROGRESS = "in_progress", _("en cours de traitement")
        RESOLVED = "resolved", _("résolu")
        REJECTED = "rejected", _("rejeté")

    CLOSED_STATUSES = (Status.RESOLVED, Status.REJECTED)

    class Channel(models.TextChoices):
        WEB = "web", _("formulaire en ligne")
        OPEN311 = "open311", _("application Open311")

    code = models.CharField(_("code de suivi"), max_length=14, unique=True, editable=False)
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="reports"
    )
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    client = models.ForeignKey(
        ClientApplication, verbose_name=_("application"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="reports",
    )
    description = models.TextField(_("description"), blank=True)
    address_string = models.CharField(_("précisions sur le lieu"), max_length=255, blank=True)
    attributes = models.JSONField(_("réponses complémentaires"), default=dict, blank=True)
    media_url = models.URLField(_("média (lien)"), max_length=500, blank=True)
    status = models.CharField(
        _("état"), max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    # Public: shown on the tracking page and as Open311 status_notes.
    status_notes = models.TextField(_("message au public"), blank=True)
    # Contact data, optional, given with consent, erasable.
    email = models.EmailField(_("courriel"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    first_name = models.CharField(_("prénom"), max_length=80, blank=True)
    last_name = models.CharField(_("nom"), max_length=80, blank=True)
    device_id = models.CharField(_("identifiant d'appareil"), max_length=120, blank=True)
    account_id = models.CharField(_("identifiant de compte"), max_length=120, blank=True)
    contact_consent_at = models.DateTimeField(_("consentement au contact le"), null=True, blank=True)
    contact_erased_at = models.DateTimeField(_("coordonnées effacées le"), null=True, blank=True)
    alert = models.ForeignKey(
        "incidents.Alert", verbose_name=_("alerte"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="citizen_reports",
    )
    requested_at = models.DateTimeField(_("reçu le"), db_index=True)
    updated_at = models.DateTimeField(_("mis à jour le"))
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)

    class Meta:
        verbose_name = _("signalement citoyen")
        verbose_name_plural = _("signalements citoyens")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["service", "requested_at"])]

    def __str__(self):
        return f"{self.code} · {self.service}"

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES

    @property
    def has_contact(self) -> bool:
        return any((self.email, self.phone, self.first_name, self.last_name, self.device_id,
                    self.account_id))


def photo_path(instance, filename: str) -> str:
    # The name is random: never the citizen's file name, never guessable.
    return f"citizens/photos/{secrets.token_hex(16)}.jpg"


class ReportPhoto(models.Model):
    """A photo, re-encoded without any metadata (EXIF, GPS…) before it was stored."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("image"), upload_to=photo_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(_("taille (octets)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["pk"]


class ReportUpdate(models.Model):
    """A public step in a report's life: what the tracking page and Open311 show."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(_("état"), max_length=20, choices=Report.Status.choices)
    note = models.TextField(_("message au public"), blank=True)
    at = models.DateTimeField(_("le"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("mise à jour publique")
        verbose_name_plural = _("mises à jour publiques")
        ordering = ["at", "pk"]
