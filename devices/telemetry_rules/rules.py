"""Telemetry rules: the rule, its time window and aggregations, their French labels (no
Django)."""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from zoneinfo import ZoneInfo

Reading = tuple[datetime, float]

ALL_DAYS: frozenset[int] = frozenset(range(7))
DAY_NAMES = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")


class RuleError(ValueError):
    """An invalid rule or time window; the message is meant for the administrator (French)."""


# --- Aggregations ----------------------------------------------------------------------------


def _finite_list(values: Iterable[float], name: str) -> list[float]:
    result = [float(v) for v in values]
    if not result:
        raise ValueError(f"{name} : aucune valeur à agréger")
    return result


def leq(values: Iterable[float]) -> float:
    """Equivalent continuous level in dB: ``10·log10(mean(10^(L/10)))``.

    Computed relative to the loudest value so that large inputs (a people count of 5000 read as
    dB) neither overflow nor lose precision. ``leq([60, 70])`` ≈ 67.40 dB.
    """
    levels = _finite_list(values, "leq")
    reference = max(levels)
    energy = math.fsum(10.0 ** ((level - reference) / 10.0) for level in levels) / len(levels)
    return reference + 10.0 * math.log10(energy)


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean."""
    items = _finite_list(values, "moyenne")
    return math.fsum(items) / len(items)


def maximum(values: Iterable[float]) -> float:
    """Largest value."""
    return max(_finite_list(values, "max"))


def minimum(values: Iterable[float]) -> float:
    """Smallest value."""
    return min(_finite_list(values, "min"))


def instant(values: Iterable[float]) -> float:
    """The latest value (values are in chronological order)."""
    return _finite_list(values, "instant")[-1]


AGGREGATIONS: dict[str, Callable[[Iterable[float]], float]] = {
    "instant": instant,
    "mean": mean,
    "leq": leq,
    "max": maximum,
    "min": minimum,
}

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda value, threshold: value > threshold,
    ">=": lambda value, threshold: value >= threshold,
    "<": lambda value, threshold: value < threshold,
    "<=": lambda value, threshold: value <= threshold,
}

_AGGREGATION_LABELS = {
    "instant": "valeur instantanée",
    "mean": "moyenne",
    "leq": "Leq",
    "max": "max",
    "min": "min",
}


# --- Time window -----------------------------------------------------------------------------


def _require_aware(moment: datetime, what: str) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} : datetime attendu, reçu {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} : datetime sans fuseau horaire ({moment.isoformat()})")


@dataclass(frozen=True)
class TimeWindow:
    """Daily local-time window, e.g. 22:00–07:00, optionally restricted to some days.

    ``start`` is included and ``end`` excluded. ``start > end`` crosses midnight: the window
    that starts Monday 22:00 ends Tuesday 07:00, and ``days`` (0 = Monday … 6 = Sunday) applies
    to the day the window *started*, so a Monday-only 22:00–07:00 window contains Tuesday 02:00
    but not Monday 02:00. ``start == end`` means the whole day (on the given days).

    Times are wall-clock times in the time zone given to :meth:`contains`: on a daylight-saving
    day, a window 02:00–03:00 simply never matches when the clocks skip that hour, and matches
    twice when they repeat it.
    """

    start: time
    end: time
    days: frozenset[int] = ALL_DAYS

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise RuleError(f"plage horaire : l'heure de {_BOUND_NAMES[name]} doit être une "
                                f"heure (datetime.time), reçu « {value!r} »")
            if value.tzinfo is not None:
                raise RuleError(f"plage horaire : l'heure de {_BOUND_NAMES[name]} ne doit pas "
                                "porter de fuseau horaire (le fuseau est celui de l'évaluation)")
        try:
            days = frozenset(self.days)
        except TypeError:
            raise RuleError("plage horaire : les jours doivent être une liste d'entiers de 0 "
                            "(lundi) à 6 (dimanche)") from None
        if not days:
            raise RuleError("plage horaire : au moins un jour doit être choisi")
        invalid = [d for d in days if isinstance(d, bool) or not isinstance(d, int)
                   or not 0 <= d <= 6]
        if invalid:
            raise RuleError(f"plage horaire : jours invalides {sorted(map(repr, invalid))} ; "
                            "valeurs admises : 0 (lundi) à 6 (dimanche)")
        object.__setattr__(self, "days", days)

    def contains(self, moment: datetime, tz: ZoneInfo | tzinfo) -> bool:
        """Whether the aware ``moment``, read as wall-clock time in ``tz``, lies in the window."""
        _require_aware(moment, "plage horaire")
        local = moment.astimezone(tz)
        clock = local.time().replace(tzinfo=None, fold=0)
        weekday = local.weekday()
        start, end = _naive(self.start), _naive(self.end)
        if start == end:
            return weekday in self.days
        if start < end:
            return start <= clock < end and weekday in self.days
        if clock >= start:
            return weekday in self.days
        if clock < end:
            return (weekday - 1) % 7 in self.days
        return False

    def describe(self) -> str:
        """French label, e.g. ``22:00–07:00 (lun, ven)``."""
        hours = ("toute la journée" if _naive(self.start) == _naive(self.end)
                 else f"{_clock(self.start)}–{_clock(self.end)}")
        if self.days == ALL_DAYS:
            return hours
        return f"{hours} ({', '.join(DAY_NAMES[d] for d in sorted(self.days))})"


_BOUND_NAMES = {"start": "début", "end": "fin"}


def _naive(value: time) -> time:
    return value.replace(fold=0)


def _clock(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second or value.microsecond else "%H:%M")


# --- Rule ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A threshold rule: ``aggregation over window_seconds <comparison> threshold``.

    ``window_seconds`` is the aggregation window (0 with "instant", which takes the latest
    reading); ``duration_seconds`` is how long the condition must hold before the rule triggers
    (0: as soon as it holds); ``time_window`` restricts the hours (and days) when it may trigger.
    """

    metric: str
    comparison: str
    threshold: float
    aggregation: str
    window_seconds: int
    duration_seconds: int = 0
    time_window: TimeWindow | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric.strip():
            raise RuleError("la métrique doit être un nom non vide (par exemple « noise »)")
        if self.comparison not in COMPARISONS:
            raise RuleError(f"comparaison inconnue « {self.comparison} » ; valeurs admises : "
                            f"{', '.join(COMPARISONS)}")
        if (isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float))
                or not math.isfinite(self.threshold)):
            raise RuleError(f"le seuil doit être un nombre fini, reçu « {self.threshold!r} »")
        if self.aggregation not in AGGREGATIONS:
            raise RuleError(f"agrégation inconnue « {self.aggregation} » ; valeurs admises : "
                            f"{', '.join(AGGREGATIONS)}")
        for name, label in (("window_seconds", "la fenêtre d'agrégation"),
                            ("duration_seconds", "la durée de maintien")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RuleError(f"{label} doit être un nombre entier de secondes, "
                                f"reçu « {value!r} »")
            if value < 0:
                raise RuleError(f"{label} ne peut pas être négative ({value} s)")
        if self.aggregation == "instant" and self.window_seconds != 0:
            raise RuleError("l'agrégation « instant » prend la dernière mesure et n'utilise pas "
                            f"de fenêtre : la fenêtre doit valoir 0 s (reçu "
                            f"{self.window_seconds} s)")
        if self.aggregation != "instant" and self.window_seconds == 0:
            raise RuleError(f"l'agrégation « {self.aggregation} » exige une fenêtre d'agrégation "
                            "strictement positive ; pour la dernière mesure seule, choisir "
                            "« instant »")
        if self.time_window is not None and not isinstance(self.time_window, TimeWindow):
            raise RuleError("la plage horaire doit être une TimeWindow ou None")
        object.__setattr__(self, "threshold", float(self.threshold))

    def holds(self, value: float | None) -> bool:
        """Whether an aggregate satisfies the comparison (an undefined one never does)."""
        return value is not None and COMPARISONS[self.comparison](value, self.threshold)

    def describe(self) -> str:
        """French label, e.g. ``Leq 10 min > 70 pendant 10 min, 22:00–07:00``."""
        condition = f"{self.comparison} {_number(self.threshold)}"
        text = f"{self.metric} : {_aggregate_label(self)} {condition}"
        if self.duration_seconds:
            text += f" pendant {_duration(self.duration_seconds)}"
        if self.time_window is not None:
            text += f", {self.time_window.describe()}"
        return text


EXAMPLE_NIGHT_NOISE_RULE = Rule(
    metric="noise",
    comparison=">",
    threshold=70.0,
    aggregation="leq",
    window_seconds=600,
    duration_seconds=600,
    time_window=TimeWindow(time(22, 0), time(7, 0)),
)
"""Shipped example: night-time noise nuisance ("nuisance sonore"), Leq 10 min > 70 dB(A) held
for 10 minutes, 22:00–07:00 every day (evaluate it in the city's zone, e.g. Europe/Paris)."""


# --- Labels ----------------------------------------------------------------------------------


def _aggregate_label(rule: Rule) -> str:
    name = _AGGREGATION_LABELS[rule.aggregation]
    if rule.aggregation == "instant":
        return name
    return f"{name} {_duration(rule.window_seconds)}"


def _duration(seconds: int) -> str:
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _moment(moment: datetime, now_local: datetime) -> str:
    if moment.date() == now_local.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%d/%m %H:%M:%S")
