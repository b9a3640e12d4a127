"""Procedure templates as YAML: export, and the reading and checking that an import relies on.

The format is a list of templates::

    - code: incendie
      name: Incendie
      description: ''
      category: incendie        # category code
      min_priority: null        # or 1 to 4
      sector: null              # or a sector code
      active: true
      steps:                    # in order
      - key: codis
        kind: notify_agency
        instruction: Prévenir le CODIS (18)
        mandatory: true
        deadline: 60            # seconds from the start of the procedure, or null
        params: {agency_kind: fire}
        next_if_yes: null       # questions only: a later step's key, "end", or null (next step)
        next_if_no: null

Reading checks everything before anything is written, and reports every problem it finds,
naming the template and the step.
"""

import json
from dataclasses import dataclass, field

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from controlroom.located import Level
from controlroom.models import Agency, Sector
from devices import capabilities
from incidents.models import Category, ProcedureTemplate, StepTemplate, Unit
from incidents.models.procedures import END, StepKind

MAX_BYTES = 1024 * 1024
TEMPLATE_KEYS = ("code", "name", "description", "category", "min_priority", "sector", "active",
                 "steps")
STEP_KEYS = ("key", "kind", "instruction", "mandatory", "deadline", "params", "next_if_yes",
             "next_if_no")
BRANCHES = (("next_if_yes", "oui"), ("next_if_no", "non"))
MAX_CAMERAS = 16


# --- export -----------------------------------------------------------------------------------
def template_spec(template: ProcedureTemplate) -> dict:
    """A template in the exchange format (also the journal's record of a template)."""
    return {
        "code": template.code,
        "name": template.name,
        "description": template.description,
        "category": template.category.code,
        "min_priority": template.min_priority,
        "sector": template.sector.code if template.sector_id else None,
        "active": template.active,
        "steps": [
            {
                "key": step.key,
                "kind": step.kind,
                "instruction": step.instruction,
                "mandatory": step.mandatory,
                "deadline": step.deadline_seconds,
                "params": step.params or {},
                "next_if_yes": step.next_if_yes or None,
                "next_if_no": step.next_if_no or None,
            }
            for step in template.steps.order_by("order")
        ],
    }


def templates_to_yaml(templates) -> str:
    specs = [template_spec(t) for t in templates]
    return yaml.safe_dump(specs, allow_unicode=True, sort_keys=False, width=100)


# --- checks shared with the admin -------------------------------------------------------------
def step_label(position: int, key) -> str:
    if isinstance(key, str) and key:
        return _("étape %(n)s « %(key)s »") % {"n": position, "key": key}
    return _("étape %(n)s") % {"n": position}


def branch_problems(steps: list[dict]) -> list[str]:
    """Problems with the keys and branches of a template's steps, given in order as dicts with
    key, kind, next_if_yes, next_if_no. A branch must point to a later step or to "end"."""
    problems, positions = [], {}
    for index, step in enumerate(steps):
        key, label = step.get("key"), step_label(index + 1, step.get("key"))
        if not isinstance(key, str):
            continue  # reported with the step's own fields
        if key == END:
            problems.append(_("%(step)s : la clé « end » est réservée à la fin de la procédure.")
                            % {"step": label})
        elif key in positions:
            problems.append(_("%(step)s : une autre étape porte déjà cette clé.") % {"step": label})
        else:
            positions[key] = index
    for index, step in enumerate(steps):
        label = step_label(index + 1, step.get("key"))
        for name, word in BRANCHES:
            target = step.get(name) or ""
            if not target:
                continue
            if not isinstance(target, str):
                problems.append(_("%(step)s : %(field)s doit être la clé d'une étape, « end » ou "
                                  "vide.") % {"step": label, "field": name})
            elif step.get("kind") != StepKind.QUESTION:
                problems.append(_("%(step)s : seule une question peut orienter vers une autre "
                                  "étape (%(field)s).") % {"step": label, "field": name})
            elif target != END and target not in positions:
                problems.append(_("%(step)s : la réponse « %(word)s » renvoie vers « %(target)s », "
                                  "qui n'existe pas.")
                                % {"step": label, "word": word, "target": target})
            elif target != END and positions[target] <= index:
                problems.append(_("%(step)s : la réponse « %(word)s » renvoie vers « %(target)s », "
                                  "qui ne vient pas après la question.")
                                % {"step": label, "word": word, "target": target})
    return problems


def params_problems(kind: str, params) -> list[str]:
    """Problems with a step's kind-specific settings."""
    if not isinstance(params, dict):
        return [_("les paramètres doivent être un dictionnaire (clé: valeur).")]
    try:
        json.dumps(params)
    except (TypeError, ValueError):
        return [_("les paramètres ne peuvent contenir que du texte, des nombres, des booléens, "
                  "des listes et des dictionnaires.")]
    problems = []
    if kind == StepKind.DISPATCH and params.get("unit_kind") not in (None, "", *Unit.Kind.values):
        problems.append(_("type d'unité inconnu : « %(value)s » (possibles : %(choices)s).")
                        % {"value": params["unit_kind"], "choices": ", ".join(Unit.Kind.values)})
    elif kind == StepKind.NOTIFY_AGENCY:
        agency_kind, agency = params.get("agency_kind"), params.get("agency")
        if agency:
            if not Agency.objects.filter(code=str(agency)).exists():
                problems.append(_("agence inconnue : « %(value)s ».") % {"value": agency})
        elif agency_kind not in Agency.Kind.values:
            problems.append(_("indiquez agency_kind (parmi : %(choices)s) ou agency (code d'une "
                              "agence).") % {"choices": ", ".join(Agency.Kind.values)})
    elif kind == StepKind.DEVICE_COMMAND:
        try:
            capabilities.step_command(params)
        except ValueError as exc:
            problems.append(str(exc))
    elif kind == StepKind.SHOW_CAMERAS and "count" in params:
        count = params["count"]
        if not _is_int(count) or not 1 <= count <= MAX_CAMERAS:
            problems.append(_("count doit être un nombre de caméras entre 1 et %(max)s.")
                            % {"max": MAX_CAMERAS})
    elif kind == StepKind.POPULATION_ALERT and not isinstance(params.get("template", ""), str):
        problems.append(_("template doit être un texte."))
    return problems


# --- import -----------------------------------------------------------------------------------
@dataclass
class TemplateDraft:
    """A checked template, not yet saved: the template (new or existing) and its new steps."""

    template: ProcedureTemplate
    steps: list[StepTemplate] = field(default_factory=list)
    created: bool = True


def templates_parse(text: str) -> list[TemplateDraft]:
    """Read and check a YAML text of templates; ValidationError lists every problem found."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ValidationError(_("Le fichier dépasse la taille maximale de 1 Mo."))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _(" (ligne %(line)s)") % {"line": mark.line + 1} if mark else ""
        raise ValidationError(_("Le fichier n'est pas un YAML valide%(where)s : %(problem)s")
                              % {"where": where, "problem": getattr(exc, "problem", exc)}) from None
    if not isinstance(data, list) or not data:
        raise ValidationError(_("Le fichier doit contenir une liste de modèles de procédure."))
    reader = _Reader(data)
    drafts = [reader.template(position, item) for position, item in enumerate(data, 1)]
    if reader.problems:
        raise ValidationError(reader.problems)
    return drafts


class _Reader:
    def __init__(self, data: list):
        codes = [item.get("code") for item in data if isinstance(item, dict)]
        codes = [code for code in codes if isinstance(code, str)]
        self.categories = {c.code: c for c in Category.objects.all()}
        self.existing = {t.code: t for t in ProcedureTemplate.objects.filter(code__in=codes)}
        self.seen: set[str] = set()
        self.problems: list[str] = []

    def template(self, position: int, item) -> TemplateDraft | None:
        code = item.get("code") if isinstance(item, dict) else None
        label = (_("Modèle « %(code)s »") % {"code": code} if isinstance(code, str) and code
                 else _("Modèle n° %(n)s") % {"n": position})

        def problem(message):
            self.problems.append(f"{label} : {message}")

        if not isinstance(item, dict):
            problem(_("un modèle doit être un dictionnaire (clé: valeur)."))
            return None
        self._unknown_keys(item, TEMPLATE_KEYS, problem)
        checked_later = ["category", "sector", "min_priority", "active"]
        if not isinstance(code, str) or not code:
            problem(_("le code est obligatoire."))
            code, checked_later = "", [*checked_later, "code"]
        elif code in self.seen:
            problem(_("ce code figure deux fois dans le fichier."))
        self.seen.add(code)
        template = self.existing.get(code) or ProcedureTemplate(code=code)
        draft = TemplateDraft(template=template, created=template.pk is None)
        template.name = _text(item.get("name"))
        template.description = _text(item.get("description"))
        category = self.categories.get(_text(item.get("category")))
        if category is None:
            problem(_("catégorie inconnue : « %(value)s ».") % {"value": item.get("category")})
        else:
            template.category = category
        min_priority = item.get("min_priority")
        if min_priority is not None and (not _is_int(min_priority)
                                         or min_priority not in Level.values):
            problem(_("min_priority doit être vide ou un entier de 1 à 4."))
        template.min_priority = min_priority
        template.sector = self._sector(item.get("sector"), problem)
        active = item.get("active", True)
        if not isinstance(active, bool):
            problem(_("active doit valoir true ou false."))
        template.active = active is True
        self._field_problems(template, checked_later, problem)
        steps = item.get("steps")
        if not isinstance(steps, list) or not steps:
            problem(_("la liste des étapes (steps) est obligatoire et ne peut être vide."))
            return draft
        draft.steps = [self.step(position, raw, problem) for position, raw in enumerate(steps, 1)]
        if all(isinstance(raw, dict) for raw in steps):
            for message in branch_problems(steps):
                problem(message)
        return draft

    def step(self, position: int, raw, problem) -> StepTemplate | None:
        label = step_label(position, raw.get("key") if isinstance(raw, dict) else None)

        def step_problem(message):
            problem(f"{label} : {message}")

        if not isinstance(raw, dict):
            step_problem(_("une étape doit être un dictionnaire (clé: valeur)."))
            return None
        self._unknown_keys(raw, STEP_KEYS, step_problem)
        kind = raw.get("kind")
        if kind not in StepKind.values:
            step_problem(_("type d'étape inconnu : « %(value)s » (possibles : %(choices)s).")
                         % {"value": kind, "choices": ", ".join(StepKind.values)})
        mandatory = raw.get("mandatory", True)
        if not isinstance(mandatory, bool):
            step_problem(_("mandatory doit valoir true ou false."))
        deadline = raw.get("deadline")
        if deadline is not None and (not _is_int(deadline) or deadline < 1):
            step_problem(_("deadline doit être vide ou un nombre de secondes positif."))
        params = raw.get("params") or {}
        for message in params_problems(kind, params):
            step_problem(message)
        step = StepTemplate(
            key=_text(raw.get("key")),
            order=position,
            kind=kind if isinstance(kind, str) else "",
            instruction=_text(raw.get("instruction")),
            mandatory=mandatory is True,
            deadline_seconds=deadline if _is_int(deadline) and deadline >= 1 else None,
            params=params if isinstance(params, dict) else {},
            next_if_yes=_text(raw.get("next_if_yes")),
            next_if_no=_text(raw.get("next_if_no")),
        )
        self._field_problems(step, ["template", "kind", "deadline_seconds", "params"], step_problem)
        return step

    def _sector(self, code, problem) -> Sector | None:
        if code in (None, ""):
            return None
        sectors = list(Sector.objects.filter(code=str(code))[:2])
        if len(sectors) != 1:
            problem(_("secteur inconnu ou ambigu : « %(value)s ».") % {"value": code})
            return None
        return sectors[0]

    @staticmethod
    def _unknown_keys(item: dict, known, problem) -> None:
        unknown = [str(k) for k in item if k not in known]
        if unknown:
            problem(_("champ(s) inconnu(s) : %(keys)s (attendus : %(known)s).")
                    % {"keys": ", ".join(unknown), "known": ", ".join(known)})

    @staticmethod
    def _field_problems(instance, exclude: list[str], problem) -> None:
        try:
            instance.clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    problem(f"{name} : {message}")


def _text(value) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
