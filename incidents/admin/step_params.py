"""A procedure step's settings as fields instead of a JSON text: the unit kind to dispatch,
the device and its command, the agency to notify, the number of cameras, the alert template.
Only the fields of the step's kind are shown (a static script follows the kind selector); the
value stays the ``params`` dict that imports, exports and runs read. Keys this form does not
know are kept as they were."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from controlroom.models import Agency
from devices import capabilities
from incidents.models import Unit
from incidents.models.procedures import StepKind

# name: (kinds it applies to, form field factory)
KNOWN = ("unit_kind", "device_kind", "command", "radius_m", "agency_kind", "agency", "count",
         "template")
COMMAND_PARAMS = ("level", "duration_s", "plan", "pattern", "lines")
# The settings each kind of step reads (the others, filled in before the kind changed, are
# dropped on save; keys this form does not know are kept).
KIND_KEYS = {
    StepKind.DISPATCH: {"unit_kind"},
    StepKind.DEVICE_COMMAND: {"device_kind", "command", "radius_m", "params"},
    StepKind.NOTIFY_AGENCY: {"agency_kind", "agency"},
    StepKind.SHOW_CAMERAS: {"count"},
    StepKind.POPULATION_ALERT: {"template"},
}


def params_for_kind(kind: str, params: dict) -> dict:
    wanted = KIND_KEYS.get(kind, set())
    return {key: value for key, value in (params or {}).items()
            if key in wanted or key not in (*KNOWN, "params")}


class StepTemplateForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        if isinstance(data.get("params"), dict):
            data["params"] = params_for_kind(data.get("kind", ""), data["params"])
        return data


def _device_choices():
    return [("", "—"), *[(code, _(label)) for code, label in capabilities.choices()]]


def _command_choices():
    choices = [("", "—")]
    seen = set()
    for kind in capabilities.KINDS.values():
        for code, action in kind.actions.items():
            if code not in seen:
                seen.add(code)
                choices.append((code, _(action.label)))
    return choices


def _value_choices(*codes):
    return [("", "—"), *[(code, _(capabilities.VALUE_LABELS.get(code, code))) for code in codes]]


class StepParamsWidget(forms.Widget):
    template_name = "incidents/widgets/step_params.html"

    def subfields(self, name, value: dict) -> list[dict]:
        command = value.get("params") if isinstance(value.get("params"), dict) else {}
        agencies = [("", "—"), *Agency.objects.order_by("name").values_list("code", "name")]

        def row(key, label, kinds, widget, current):
            return {"name": f"{name}__{key}", "id": f"id_{name}__{key}", "label": label,
                    "kinds": " ".join(kinds),
                    "html": widget.render(f"{name}__{key}", current,
                                          {"id": f"id_{name}__{key}"})}

        select = forms.Select
        number = forms.NumberInput
        return [
            row("unit_kind", _("Type d'unité à engager"), [StepKind.DISPATCH],
                select(choices=[("", "—"), *Unit.Kind.choices]), value.get("unit_kind")),
            row("device_kind", _("Type d'équipement"), [StepKind.DEVICE_COMMAND],
                select(choices=_device_choices()), value.get("device_kind")),
            row("command", _("Commande"), [StepKind.DEVICE_COMMAND],
                select(choices=_command_choices()), value.get("command")),
            row("level", _("niveau (%)"), [StepKind.DEVICE_COMMAND],
                number(attrs={"min": 0, "max": 100}), command.get("level")),
            row("plan", _("plan de feux"), [StepKind.DEVICE_COMMAND],
                select(choices=_value_choices("normal", "flashing_amber", "all_red",
                                              "green_wave")), command.get("plan")),
            row("pattern", _("signal"), [StepKind.DEVICE_COMMAND],
                select(choices=_value_choices("alerte", "fin_alerte", "essai")),
                command.get("pattern")),
            row("lines", _("message (une ligne par ligne du panneau)"),
                [StepKind.DEVICE_COMMAND], forms.Textarea(attrs={"rows": 3, "cols": 24}),
                "\n".join(command.get("lines") or [])),
            row("duration_s", _("durée (s)"), [StepKind.DEVICE_COMMAND],
                number(attrs={"min": 10, "max": 3600}), command.get("duration_s")),
            row("radius_m", _("Rayon de recherche des équipements (m)"),
                [StepKind.DEVICE_COMMAND], number(attrs={"min": 10, "max": 5000}),
                value.get("radius_m")),
            row("agency_kind", _("Type d'agence à prévenir"), [StepKind.NOTIFY_AGENCY],
                select(choices=[("", "—"), *Agency.Kind.choices]), value.get("agency_kind")),
            row("agency", _("ou agence précise"), [StepKind.NOTIFY_AGENCY],
                select(choices=agencies), value.get("agency")),
            row("count", _("Nombre de caméras"), [StepKind.SHOW_CAMERAS],
                number(attrs={"min": 1, "max": 12}), value.get("count")),
            row("template", _("Modèle d'alerte"), [StepKind.POPULATION_ALERT],
                forms.TextInput(attrs={"maxlength": 120}), value.get("template")),
        ]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        value = value if isinstance(value, dict) else {}
        others = {key: item for key, item in value.items() if key not in KNOWN + ("params",)}
        extra_params = {key: item for key, item in (value.get("params") or {}).items()
                        if key not in COMMAND_PARAMS} if isinstance(value.get("params"), dict) \
            else {}
        context["rows"] = self.subfields(name, value)
        context["others"] = json.dumps({"params": extra_params, **others}) \
            if others or extra_params else ""
        context["empty_text"] = _("Aucun réglage pour ce type d'étape.")
        return context

    def value_from_datadict(self, data, files, name):
        def get(key):
            return (data.get(f"{name}__{key}") or "").strip()

        def number(key):
            text = get(key)
            try:
                return int(text) if text else None
            except ValueError:
                return text  # refused with a message by the step checks

        params: dict = {}
        try:
            kept = json.loads(data.get(f"{name}__others") or "{}")
        except ValueError:
            kept = {}
        kept = kept if isinstance(kept, dict) else {}
        command = dict(kept.pop("params", None) or {})
        params.update(kept)
        for key in ("unit_kind", "device_kind", "command", "agency_kind", "agency", "template"):
            if get(key):
                params[key] = get(key)
        for key in ("radius_m", "count"):
            if number(key) is not None:
                params[key] = number(key)
        for key in ("level", "duration_s"):
            if number(key) is not None:
                command[key] = number(key)
        for key in ("plan", "pattern"):
            if get(key):
                command[key] = get(key)
        lines = [line.rstrip() for line in (data.get(f"{name}__lines") or "").splitlines()]
        if any(lines):
            command["lines"] = lines
        if params.get("device_kind") or command:
            # Only what the chosen action takes: fields of other actions are left out.
            spec = capabilities.KINDS.get(params.get("device_kind", ""))
            action = spec.actions.get(params.get("command", "")) if spec else None
            if action is not None:
                command = {key: item for key, item in command.items() if key in action.params}
            if command:
                params["params"] = command
        return params

    def value_omitted_from_data(self, data, files, name):
        return False


class StepParamsField(forms.Field):
    widget = StepParamsWidget

    def __init__(self, *args, encoder=None, decoder=None, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise forms.ValidationError(_("Réglages illisibles.")) from None
        return value

    def prepare_value(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return {}
        return value

    def has_changed(self, initial, data):
        return (initial or {}) != (data or {})
