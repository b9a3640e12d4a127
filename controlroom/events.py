"""The registry of journal event types: each type declared once, by the app that records it.

An entry gives the payload fields every event of the type carries (``journal.record`` refuses a
payload lacking one), its label for people (French, translated through gettext) and how replay
applies it: a reducer function, or ``NOT_REPLAYED`` when the event changes nothing replay shows.
Apps declare their types from their ``AppConfig.ready``; the platform imports no app, and
``journal.record`` refuses a type nobody declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

# What replay does with an event: ``reducer(state, type, subject, agencies, payload)``.
Reducer = Callable[[dict, str, tuple, list, dict], None]


class _NotReplayed:
    def __repr__(self):
        return "NOT_REPLAYED"


NOT_REPLAYED = _NotReplayed()


class UnregisteredEventType(ValueError):
    pass


@dataclass(frozen=True)
class EventType:
    type: str
    app: str
    label: object  # a lazy translation
    fields: tuple[str, ...]
    replay: Reducer | _NotReplayed

    @property
    def replayed(self) -> bool:
        return self.replay is not NOT_REPLAYED


_REGISTRY: dict[str, EventType] = {}


def register(type: str, *, app: str, label, replay: Reducer | _NotReplayed,
             fields: Iterable[str] = ()) -> EventType:
    """Declare an event type. ``replay`` has no default: every type says how replay takes it."""
    if replay is not NOT_REPLAYED and not callable(replay):
        raise TypeError(f"{type}: replay must be a reducer or NOT_REPLAYED")
    known = _REGISTRY.get(type)
    if known is not None and known.app != app:
        raise ValueError(f"Event type {type!r} is already declared by {known.app!r}.")
    entry = EventType(type=type, app=app, label=label, fields=tuple(fields), replay=replay)
    _REGISTRY[type] = entry
    return entry


_CONFIGURATION_WORDS = {"created": _("création"), "changed": _("modification"),
                        "deleted": _("suppression")}


def register_configured(model: str, *, app: str, name, replay: Reducer | _NotReplayed,
                        labels: dict | None = None) -> None:
    """Declare ``<model>.created``, ``.changed`` and ``.deleted``, which the configuration
    services (``controlroom.services.configuration_save``/``_delete``) record for the
    administration; ``name`` is the model's name for people."""
    for action, word in _CONFIGURATION_WORDS.items():
        label = (labels or {}).get(action) or format_lazy("{} : {}", capfirst(name), word)
        register(f"{model}.{action}", app=app, label=label, replay=replay)


def get(type: str) -> EventType:
    try:
        return _REGISTRY[type]
    except KeyError:
        raise UnregisteredEventType(
            f"Event type {type!r} is not declared: declare it in its app's events module "
            "(controlroom.events.register) before recording it.") from None


def lookup(type: str) -> EventType | None:
    return _REGISTRY.get(type)


def registered() -> dict[str, EventType]:
    return dict(_REGISTRY)


def label(type: str) -> str:
    entry = _REGISTRY.get(type)
    return str(entry.label) if entry is not None else type


def labels() -> dict[str, str]:
    """Every type's label in the active language, for pages and consoles."""
    return {type: str(entry.label) for type, entry in sorted(_REGISTRY.items())}


# --- the platform's own types ------------------------------------------------------------------
def _declare_platform() -> None:
    app = "controlroom"
    for model, name in (("agency", _("Agence")), ("city", _("Commune")),
                        ("sector", _("Secteur")), ("user", _("Utilisateur"))):
        register_configured(model, app=app, name=name, replay=NOT_REPLAYED)
    register("user.role_granted", app=app, label=_("Rôle accordé"), replay=NOT_REPLAYED,
             fields=("role",))
    register("user.role_revoked", app=app, label=_("Rôle retiré"), replay=NOT_REPLAYED,
             fields=("role",))
    register("user.permissions_changed", app=app, label=_("Droits modifiés"),
             replay=NOT_REPLAYED)
    register("journal.integrity_failed", app=app, label=_("Intégrité du journal compromise"),
             replay=NOT_REPLAYED)


_declare_platform()
