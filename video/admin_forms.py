"""The camera's analyses as a form: one group of fields per analysis (on or off, zones, hours,
days, and each setting with its default shown), instead of a JSON text. The form writes the
same ``analytics`` dict the workers read."""

import copy
from dataclasses import MISSING, fields

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from video.analytics.rules import RULES
from video.catalogue import PARAM_LABELS, RULE_LABELS
from video.models import Camera

DAYS = [(0, _("lundi")), (1, _("mardi")), (2, _("mercredi")), (3, _("jeudi")),
        (4, _("vendredi")), (5, _("samedi")), (6, _("dimanche"))]


def _default(spec):
    if spec.default is not MISSING:
        return spec.default
    if spec.default_factory is not MISSING:  # pragma: no cover - no rule uses one today
        return spec.default_factory()
    return None


def _kind(spec) -> str:
    """"bool", "int", "float" or "list" (a tuple of names), from the parameter's type."""
    text = spec.type.__name__ if isinstance(spec.type, type) else str(spec.type)
    if text.startswith(("tuple", "typing.Tuple")):
        return "list"
    for name in ("bool", "int"):
        if text == name or text.startswith(f"{name} |") or text.startswith(f"{name}|"):
            return name
    return "float"


def _param_field(spec) -> forms.Field:
    default = _default(spec)
    label = PARAM_LABELS.get(spec.name, spec.name.replace("_", " "))
    shown = _("vide : %(value)s par défaut") % {
        "value": ", ".join(default) if isinstance(default, tuple) and default
        else (_("oui") if default is True else _("non") if default is False
              else _("aucun") if default in (None, ()) else default)}
    kind = _kind(spec)
    if kind == "bool":
        return forms.NullBooleanField(label=label, required=False, help_text=shown,
                                      widget=forms.Select(choices=[("unknown", _("par défaut")),
                                                                   ("true", _("oui")),
                                                                   ("false", _("non"))]))
    if kind == "int":
        return forms.IntegerField(label=label, required=False, help_text=shown)
    if kind == "list":
        return forms.CharField(label=label, required=False, help_text=shown, max_length=300)
    return forms.FloatField(label=label, required=False, help_text=shown)


def rule_field_names(rule: str) -> list[str]:
    names = [f"{rule}__on", f"{rule}__zones", f"{rule}__start", f"{rule}__end", f"{rule}__days"]
    return names + [f"{rule}__p__{spec.name}" for spec in fields(RULES[rule].Params)]


def _rule_fields() -> dict[str, forms.Field]:
    declared = {}
    for rule, evaluator in RULES.items():
        declared[f"{rule}__on"] = forms.BooleanField(
            label=_("Activer « %(rule)s »") % {"rule": RULE_LABELS.get(rule, rule)},
            required=False)
        declared[f"{rule}__zones"] = forms.CharField(
            label=_("Zones ou lignes (noms séparés par des virgules)"), required=False,
            max_length=500, help_text=_("Vide : toute l'image. Les noms sont ceux tracés sur "
                                        "l'image, plus bas."))
        declared[f"{rule}__start"] = forms.TimeField(
            label=_("Active de"), required=False,
            widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            help_text=_("Vide : à toute heure."))
        declared[f"{rule}__end"] = forms.TimeField(
            label=_("à"), required=False,
            widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
        declared[f"{rule}__days"] = forms.TypedMultipleChoiceField(
            label=_("Jours"), required=False, choices=DAYS, coerce=int,
            widget=forms.CheckboxSelectMultiple, help_text=_("Aucun coché : tous les jours."))
        for spec in fields(evaluator.Params):
            declared[f"{rule}__p__{spec.name}"] = _param_field(spec)
    return declared


class CameraFormBase(forms.ModelForm):
    class Meta:
        model = Camera
        fields = ["analytics"]  # the admin adds the camera's other fields
        widgets = {"analytics": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "analytics" in self.fields:
            self.fields["analytics"].required = False
        if not self.is_bound:
            self._initial_from(self.instance.analytics or {})

    def _initial_from(self, analytics: dict) -> None:
        for rule, config in analytics.items():
            if rule not in RULES or not isinstance(config, dict):
                continue
            self.initial[f"{rule}__on"] = True
            self.initial[f"{rule}__zones"] = ", ".join(config.get("zones") or [])
            schedule = config.get("schedule") or {}
            if isinstance(schedule, dict):
                self.initial[f"{rule}__start"] = schedule.get("start")
                self.initial[f"{rule}__end"] = schedule.get("end")
                days = schedule.get("days")
                self.initial[f"{rule}__days"] = days if isinstance(days, list) else []
            for name, value in (config.get("params") or {}).items():
                if isinstance(value, (list, tuple)):
                    value = ", ".join(map(str, value))
                self.initial[f"{rule}__p__{name}"] = value

    def built_analytics(self) -> dict:
        data = self.cleaned_data
        analytics = {}
        for rule, evaluator in RULES.items():
            if not data.get(f"{rule}__on"):
                continue
            config: dict = {}
            params = {}
            for spec in fields(evaluator.Params):
                value = data.get(f"{rule}__p__{spec.name}")
                if value in (None, ""):
                    continue
                if _kind(spec) == "list":
                    value = [part.strip() for part in str(value).split(",") if part.strip()]
                params[spec.name] = value
            if params:
                config["params"] = params
            zones = [z.strip() for z in (data.get(f"{rule}__zones") or "").split(",")
                     if z.strip()]
            if zones:
                config["zones"] = zones
            start, end = data.get(f"{rule}__start"), data.get(f"{rule}__end")
            if start or end:
                if not (start and end):
                    self.add_error(f"{rule}__end" if start else f"{rule}__start",
                                   _("Indiquez le début et la fin de la plage horaire."))
                    continue
                schedule = {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
                if data.get(f"{rule}__days"):
                    schedule["days"] = sorted(data[f"{rule}__days"])
                config["schedule"] = schedule
            elif data.get(f"{rule}__days"):
                config["schedule"] = {"start": "00:00", "end": "00:00",
                                      "days": sorted(data[f"{rule}__days"])}
            analytics[rule] = config
        return analytics

    def clean(self):
        data = super().clean()
        analytics = self.built_analytics()
        probe = copy.copy(self.instance)
        probe.analytics = analytics
        if "zones" in data:
            probe.zones = data["zones"]
        try:
            probe.clean()
        except ValidationError as error:
            for message in error.message_dict.get("analytics", error.messages):
                self.add_error(None, message)
        data["analytics"] = analytics
        return data


CameraForm = type("CameraForm", (CameraFormBase,), _rule_fields())
