"""The public report form: plain Django forms, French messages, a honeypot, the service's questions."""

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citizens import pending, services
from citizens.models import Service, ServiceAttribute
from citizens.photos import MAX_BYTES, PhotoError, accepted_names, clean_photo


def _photos_help() -> str:
    # Formatted when shown, in the language of the page (not once, at import).
    return gettext("Jusqu'à 5 photos (%(formats)s), 10 Mo chacune. Leurs métadonnées (dont la "
                   "position GPS) sont supprimées avant d'être enregistrées.") % {
        "formats": accepted_names()}


photos_help = lazy(_photos_help, str)

PHONE = RegexValidator(r"^\+?[0-9 .()-]{6,25}$", _("Saisissez un numéro de téléphone valide."))
ATTRIBUTE_PREFIX = "attribut_"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files in one input; each is checked by content later, in the service."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"})

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        files = [f for f in files if f]
        if len(files) > services.MAX_PHOTOS:
            raise forms.ValidationError(
                _("Vous pouvez joindre %(max)s photos au plus.") % {"max": services.MAX_PHOTOS}
            )
        for upload in files:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError(
                    _("Chaque photo doit peser moins de %(mb)s Mo.") % {"mb": MAX_BYTES // 2**20}
                )
        return files


class ReportForm(forms.Form):
    description = forms.CharField(
        label=_("Description"), min_length=10, max_length=services.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Décrivez ce que vous constatez. N'indiquez pas le nom d'autres personnes."),
    )
    lat = forms.FloatField(widget=forms.HiddenInput, required=False)
    lon = forms.FloatField(widget=forms.HiddenInput, required=False)
    address_string = forms.CharField(
        label=_("Précisions sur le lieu (facultatif)"), max_length=255, required=False,
        help_text=_("Par exemple : devant le numéro 12, côté parc."),
    )
    photos = PhotosField(
        label=_("Photos (facultatif)"), required=False,
        help_text=photos_help(),
    )
    # Photos that passed their checks on a previous try, kept for this one (a signed token).
    kept_photos = forms.CharField(required=False, widget=forms.HiddenInput)
    drop_kept_photos = forms.BooleanField(label=_("Retirer ces photos"), required=False)
    email = forms.EmailField(label=_("Courriel (facultatif)"), required=False, max_length=254)
    phone = forms.CharField(label=_("Téléphone (facultatif)"), required=False, max_length=30,
                            validators=[PHONE])
    consent = forms.BooleanField(required=False)
    # A field people never see: bots fill it in.
    website = forms.CharField(required=False, label=_("Ne pas remplir ce champ"),
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args, service: Service, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service
        self.fields["consent"].label = _(
            "J'accepte que la police municipale utilise ces coordonnées uniquement pour me "
            "recontacter au sujet de ce signalement. Elles sont effacées %(days)s jours après sa "
            "clôture, ou avant, à ma demande, depuis la page de suivi."
        ) % {"days": settings.CITIZEN_CONTACT_RETENTION_DAYS}
        for attribute in service.attributes.all():
            self.fields[ATTRIBUTE_PREFIX + attribute.code] = _attribute_field(attribute)

    def kept_photo_names(self) -> list[str]:
        """The photos kept from the previous try that this one will send, by name."""
        if self.is_bound and (self.files.getlist("photos") or self.data.get("drop_kept_photos")):
            return []
        return pending.names(self.kept_token())

    def kept_token(self) -> str:
        if self.is_bound:
            return self.data.get("kept_photos", "")
        return self.initial.get("kept_photos", "")

    def photos_to_send(self) -> list[bytes]:
        """The photos attached now, or else those kept from the previous try."""
        fresh = [upload.read() for upload in self.cleaned_data["photos"]]
        if fresh or self.cleaned_data.get("drop_kept_photos"):
            return fresh
        return [content for _name, content in pending.load(self.cleaned_data["kept_photos"])]

    def keep_photos(self) -> None:
        """After a refusal for another field, keep the photos that pass their checks, cleaned,
        so the next try need not attach them again. A photo that fails says so on its field."""
        if "photos" in self.errors:
            return self._forget_kept()
        uploads = (self.cleaned_data or {}).get("photos") or []
        if not uploads:
            if self.data.get("drop_kept_photos"):
                self._forget_kept()
            return None
        cleaned = []
        for number, upload in enumerate(uploads, start=1):
            upload.seek(0)
            try:
                cleaned.append((upload.name, clean_photo(upload.read()).content))
            except PhotoError as exc:
                prefix = gettext("Photo %(n)s : ") % {"n": number} if len(uploads) > 1 else ""
                self.add_error("photos", prefix + exc.translated(gettext))
                return self._forget_kept()
        pending.discard(self.data.get("kept_photos", ""))
        self._set_kept(pending.stash(cleaned))
        return None

    def _forget_kept(self) -> None:
        pending.discard(self.data.get("kept_photos", ""))
        self._set_kept("")

    def _set_kept(self, token: str) -> None:
        self.data = self.data.copy()
        self.data["kept_photos"] = token
        self.data.pop("drop_kept_photos", None)
        self.files = self.files.copy()
        self.files.pop("photos", None)

    def attribute_fields(self):
        return [self[name] for name in self.fields if name.startswith(ATTRIBUTE_PREFIX)]

    def clean(self):
        data = super().clean()
        if data.get("website"):
            raise forms.ValidationError(_("Le formulaire n'a pas pu être envoyé."))
        if data.get("lat") is None or data.get("lon") is None:
            self.add_error(None, _("Indiquez le lieu du problème sur la carte, ou utilisez "
                                   "« Me localiser »."))
        if (data.get("email") or data.get("phone")) and not data.get("consent"):
            self.add_error("consent", _("Cochez cette case pour que nous puissions vous "
                                        "recontacter, ou laissez vos coordonnées vides."))
        return data

    def submission(self, photos: list[bytes]) -> services.Submission:
        data = self.cleaned_data
        return services.Submission(
            service=self.service,
            lat=data["lat"],
            lon=data["lon"],
            description=data["description"],
            address_string=data["address_string"],
            attributes={
                name[len(ATTRIBUTE_PREFIX):]: value for name, value in data.items()
                if name.startswith(ATTRIBUTE_PREFIX)
            },
            photos=photos,
            contact=services.Contact(email=data.get("email", ""), phone=data.get("phone", "")),
            consent=bool(data.get("consent")),
        )

    def add_service_errors(self, error) -> None:
        """Put a service's ValidationError on the fields the citizen can correct."""
        for field, messages in error.message_dict.items():
            target = field if field in ("description", "photos", "consent", "address_string") else None
            for message in messages:
                self.add_error(target, message)


def _attribute_field(attribute: ServiceAttribute) -> forms.Field:
    kind = ServiceAttribute.Datatype
    common = {"label": attribute.description, "required": attribute.required,
              "help_text": attribute.datatype_description}
    choices = [(str(v.get("key")), v.get("name")) for v in attribute.values or []]
    if attribute.datatype == kind.SINGLE:
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if attribute.datatype == kind.MULTI:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple,
                                         **common)
    if attribute.datatype == kind.NUMBER:
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if attribute.datatype == kind.DATETIME:
        return forms.CharField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                               **common)
    if attribute.datatype == kind.TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, **common)
    return forms.CharField(max_length=1000, **common)
