"""Exercise scenarios, written as YAML files (``incidents/scenarios/*.yaml``).

A scenario names the units it brings (created for the exercise only) and a timeline of what
happens, in seconds from the start::

    code: nuit-festive
    name: "Nuit de fête : rassemblement et rixe"
    description: …
    units:
      - {call_sign: EX-PM-1, kind: patrol_car, place: darcy}
    timeline:
      - at: 0
        alert: {source: partner, category: rassemblement, title: …, place: republique}
      - at: 60
        sensor: {device: sono-republique, metric: laeq_db, value: 88, category: nuisance_sonore,
                 title: …, place: republique}
      - at: 120
        citizen_report: {category: nuisance_sonore, title: …, text: …, place: republique}
      - at: 180
        camera_event: {camera: cam-republique, rule: crowd, category: rixe, title: …,
                       place: republique, severity: 1}
      - at: 240
        unit_move: {unit: EX-PM-1, place: liberation}

A place is one of the demo city's named places or ``[lat, lon]``. Parsing checks everything and
reports every problem with where it is, before anything is played.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

from demo.incidents import PLACES
from incidents.models import Alert, Category, Unit

DIRECTORY = Path(__file__).with_name("scenarios")
KINDS = ("alert", "sensor", "camera_event", "citizen_report", "unit_move")
SOURCES = {"alert": None, "sensor": Alert.Source.SENSOR, "camera_event": Alert.Source.CAMERA,
           "citizen_report": Alert.Source.CITIZEN}


class ScenarioError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Scenario:
    code: str
    name: str
    description: str
    units: list[dict]
    steps: list[dict]  # {"at": seconds, "kind": one of KINDS, **fields}, in time order

    @property
    def duration(self) -> int:
        return max((step["at"] for step in self.steps), default=0)


def _point(value, where: str, problems: list[str]):
    if isinstance(value, str):
        if value not in PLACES:
            problems.append(f"{where} : lieu inconnu « {value} »")
            return None
        return list(PLACES[value])
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) for v in value)):
        return [float(value[0]), float(value[1])]
    problems.append(f"{where} : « place » doit être un lieu connu ou [lat, lon]")
    return None


def parse(text: str) -> Scenario:
    problems: list[str] = []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError([f"YAML illisible : {error}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(["Le scénario doit être un objet (code, name, units, timeline)."])
    for key in ("code", "name"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(f"« {key} » manquant")
    categories = set(Category.objects.values_list("code", flat=True))
    units = []
    calls = set()
    for n, unit in enumerate(data.get("units") or [], 1):
        where = f"unité {n}"
        if not isinstance(unit, dict) or not unit.get("call_sign"):
            problems.append(f"{where} : « call_sign » manquant")
            continue
        if unit.get("kind") not in Unit.Kind.values:
            problems.append(f"{where} : type d'unité inconnu « {unit.get('kind')} »")
        calls.add(unit["call_sign"])
        units.append({"call_sign": str(unit["call_sign"])[:40], "kind": unit.get("kind"),
                      "point": _point(unit.get("place"), where, problems)})
    steps = []
    for n, item in enumerate(data.get("timeline") or [], 1):
        where = f"étape {n}"
        if not isinstance(item, dict):
            problems.append(f"{where} : objet attendu")
            continue
        at = item.get("at")
        if not isinstance(at, (int, float)) or at < 0:
            problems.append(f"{where} : « at » (secondes depuis le début) manquant ou négatif")
            continue
        kinds = [kind for kind in KINDS if kind in item]
        if len(kinds) != 1:
            problems.append(f"{where} : une et une seule action parmi {', '.join(KINDS)}")
            continue
        kind = kinds[0]
        body = item[kind]
        if not isinstance(body, dict):
            problems.append(f"{where} : « {kind} » doit être un objet")
            continue
        step = {"at": float(at), "kind": kind, **body}
        if kind == "unit_move":
            if body.get("unit") not in calls:
                problems.append(f"{where} : unité « {body.get('unit')} » absente du scénario")
        else:
            if body.get("category") not in categories:
                problems.append(f"{where} : catégorie inconnue « {body.get('category')} »")
            if not body.get("title"):
                problems.append(f"{where} : « title » manquant")
            severity = body.get("severity", 3)
            if severity not in (1, 2, 3, 4):
                problems.append(f"{where} : « severity » va de 1 à 4")
            step["severity"] = severity
            source = SOURCES[kind] or body.get("source", Alert.Source.OPERATOR)
            if source not in Alert.Source.values:
                problems.append(f"{where} : source inconnue « {source} »")
            step["source"] = source
        step["point"] = _point(body.get("place"), where, problems)
        steps.append(step)
    if not steps:
        problems.append("« timeline » vide")
    if problems:
        raise ScenarioError(problems)
    steps.sort(key=lambda step: step["at"])
    return Scenario(code=data["code"].strip(), name=data["name"].strip(),
                    description=str(data.get("description") or "").strip(), units=units,
                    steps=steps)


def available() -> dict[str, Path]:
    """The scenarios shipped with the control room, by code (file name)."""
    return {path.stem: path for path in sorted(DIRECTORY.glob("*.yaml"))}


def load(code: str) -> Scenario:
    path = available().get(code)
    if path is None:
        raise ScenarioError([f"Scénario inconnu « {code} »"])
    return parse(path.read_text(encoding="utf-8"))
