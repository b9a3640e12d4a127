"""What each kind of street device can do, and the check of a command against it.

Pure Python, no Django import: ``check_command`` takes a kind, an action and parameters and
returns the normalised parameters, or raises ``CommandRefused`` with a message in French that
can be shown to the operator as it is. Nothing is sent for a command that does not pass.
"""

from dataclasses import dataclass, field


def _(text: str) -> str:
    """Marks a label for translation (``makemessages`` finds it); the Django side translates
    it when it shows it, so this module stays free of Django."""
    return text


class CommandRefused(ValueError):
    def __init__(self, message: str, field: str = "params"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Param:
    """One parameter of an action: an integer in a range, a choice, or lines of text."""

    kind: str  # "int", "choice", "lines"
    label: str
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    default: object = None


@dataclass(frozen=True)
class Action:
    label: str
    params: dict[str, Param] = field(default_factory=dict)
    critical: bool = False  # needs a second person (a supervisor) before it is sent


@dataclass(frozen=True)
class Kind:
    label: str
    actions: dict[str, Action] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()  # what a sensor reports
    # Per-kind limits of a message panel: lines and characters per line.
    max_lines: int = 0
    max_chars: int = 0

    @property
    def is_sensor(self) -> bool:
        return not self.actions


DURATION = Param("int", _("durée (s)"), required=False, minimum=10, maximum=3600)

KINDS: dict[str, Kind] = {
    "street_light": Kind(_("Éclairage public"), {
        "set_level": Action(_("Régler le niveau"), {
            "level": Param("int", _("niveau (%)"), minimum=0, maximum=100),
        }),
        "on": Action(_("Allumer")),
        "off": Action(_("Éteindre")),
        "boost": Action(_("Pleine puissance temporaire"), {
            "duration_s": Param("int", _("durée (s)"), minimum=60, maximum=3600, default=900),
        }),
    }),
    "traffic_signal": Kind(_("Contrôleur de feux"), {
        "set_plan": Action(_("Changer de plan de feux"), {
            "plan": Param("choice", _("plan"), choices=("normal", "flashing_amber", "all_red",
                                                      "green_wave")),
        }),
    }),
    "bollard": Kind(_("Borne escamotable"), {
        "raise": Action(_("Lever la borne"), critical=True),
        "lower": Action(_("Abaisser la borne"), critical=True),
    }),
    "message_panel": Kind(_("Panneau à messages"), {
        "show": Action(_("Afficher un message"), {
            "lines": Param("lines", _("lignes")),
            "duration_s": DURATION,
        }),
        "clear": Action(_("Effacer le panneau")),
    }, max_lines=3, max_chars=20),
    "siren": Kind(_("Sirène / haut-parleur"), {
        "sound": Action(_("Déclencher"), {
            "pattern": Param("choice", _("signal"), choices=("alerte", "fin_alerte", "essai")),
            "duration_s": Param("int", _("durée (s)"), minimum=10, maximum=600, default=60),
        }, critical=True),
        "stop": Action(_("Arrêter")),
    }),
    "noise_sensor": Kind(_("Sonomètre"), metrics=("laeq_db",)),
    # Detects sound events (detonations, screams, breaking glass, night music); never keeps audio.
    "sound_sensor": Kind(_("Capteur sonore (détection d'événements)"),
                         metrics=("laeq_db", "lafmax_db")),
    "people_counter": Kind(_("Compteur de personnes"), metrics=("people",)),
    "air_quality": Kind(_("Capteur de qualité de l'air"), metrics=("pm25", "pm10", "no2")),
}

# Words for what devices report in their state, and for the coded values of states and choices:
# an operator reads "allumé : oui · niveau (%) : 100", never ``on: true``.
STATE_LABELS = {
    "on": _("allumé"), "level": _("niveau (%)"), "boost": _("pleine puissance"),
    "boost_seconds": _("durée de la pleine puissance (s)"), "plan": _("plan de feux"),
    "position": _("position"), "lines": _("message affiché"), "duration_s": _("durée (s)"),
    "sounding": _("en marche"), "pattern": _("signal"), "laeq_db": _("niveau sonore (dB A)"),
    "lafmax_db": _("niveau maximal (dB A)"), "people": _("personnes"),
    "pm25": _("particules PM2,5 (µg/m³)"), "pm10": _("particules PM10 (µg/m³)"),
    "no2": _("dioxyde d'azote (µg/m³)"),
}
VALUE_LABELS = {
    "true": _("oui"), "false": _("non"), "up": _("levée"), "down": _("abaissée"),
    "normal": _("normal"), "flashing_amber": _("orange clignotant"), "all_red": _("tout rouge"),
    "green_wave": _("onde verte"), "alerte": _("alerte"), "fin_alerte": _("fin d'alerte"),
    "essai": _("essai"),
}

# Critical actions that depend on a parameter, not on the action alone.
CRITICAL_PARAMS = {("traffic_signal", "set_plan"): ("plan", {"all_red"})}

# What the choices of parameters mean, in words for the screens (the codes travel to devices).
CHOICE_LABELS = {
    "normal": _("normal"), "flashing_amber": _("orange clignotant"), "all_red": _("tout au rouge"),
    "green_wave": _("onde verte"), "alerte": _("alerte"), "fin_alerte": _("fin d'alerte"),
    "essai": _("essai"),
}


def kind_of(code: str) -> Kind:
    try:
        return KINDS[code]
    except KeyError:
        raise CommandRefused(f"Type d'équipement inconnu : « {code} ».", field="kind") from None


def is_critical(kind: str, action: str, params: dict) -> bool:
    spec = KINDS[kind].actions[action]
    if spec.critical:
        return True
    rule = CRITICAL_PARAMS.get((kind, action))
    return bool(rule and params.get(rule[0]) in rule[1])


def check_command(kind: str, action: str, params: dict | None) -> dict:
    """The parameters of ``action`` on a device of ``kind``, checked and normalised."""
    spec_kind = kind_of(kind)
    if spec_kind.is_sensor:
        raise CommandRefused(f"Un équipement « {spec_kind.label} » ne reçoit pas de commande.",
                             field="action")
    spec = spec_kind.actions.get(action)
    if spec is None:
        known = ", ".join(spec_kind.actions)
        raise CommandRefused(
            f"Action « {action} » inconnue pour « {spec_kind.label} » (possibles : {known}).",
            field="action",
        )
    if params is not None and not isinstance(params, dict):
        raise CommandRefused("Les paramètres doivent être un objet JSON.")
    params = dict(params or {})
    unknown = set(params) - set(spec.params)
    if unknown:
        raise CommandRefused(f"Paramètre(s) inattendu(s) : {', '.join(sorted(unknown))}.")
    clean = {}
    for name, param in spec.params.items():
        value = params.get(name, param.default)
        if value is None:
            if param.required:
                raise CommandRefused(f"Indiquez « {param.label} ».")
            continue
        clean[name] = _check_param(spec_kind, name, param, value)
    return clean


def _check_param(kind: Kind, name: str, param: Param, value):
    if param.kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise CommandRefused(f"« {param.label} » doit être un nombre entier.")
        try:
            number = int(str(value))
        except ValueError:
            raise CommandRefused(f"« {param.label} » doit être un nombre entier.") from None
        if not param.minimum <= number <= param.maximum:
            raise CommandRefused(
                f"« {param.label} » doit être entre {param.minimum} et {param.maximum}."
            )
        return number
    if param.kind == "choice":
        if value not in param.choices:
            raise CommandRefused(
                f"« {param.label} » doit être l'un de : {', '.join(param.choices)}."
            )
        return value
    # Lines of text for a message panel, within the kind's limits.
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise CommandRefused("Le message doit être une liste de lignes de texte.")
    lines = [line.strip() for line in value]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise CommandRefused("Le message est vide.")
    if len(lines) > kind.max_lines:
        raise CommandRefused(f"{kind.max_lines} lignes au plus sur ce panneau.")
    for number, line in enumerate(lines, 1):
        if len(line) > kind.max_chars:
            raise CommandRefused(
                f"Ligne {number} : {kind.max_chars} caractères au plus ({len(line)} saisis)."
            )
        if any(ord(ch) < 32 for ch in line):
            raise CommandRefused(f"Ligne {number} : caractères de contrôle interdits.")
    return lines


# A procedure step "device command" reaches the devices of its kind within this distance.
STEP_RADIUS_M = 300


def step_command(params: dict) -> tuple[str, str, dict, float]:
    """(kind, action, checked params, radius) from a step's settings, or ValueError."""
    kind, action = params.get("device_kind", ""), params.get("command", "")
    radius = params.get("radius_m", STEP_RADIUS_M)
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not 10 <= radius <= 5000:
        raise ValueError("radius_m doit être un nombre de mètres entre 10 et 5000.")
    try:
        clean = check_command(kind, action, params.get("params") or {})
    except CommandRefused as refusal:
        raise ValueError(str(refusal)) from None
    return kind, action, clean, float(radius)


def choices() -> list[tuple[str, str]]:
    return [(code, kind.label) for code, kind in KINDS.items()]
