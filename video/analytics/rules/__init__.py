"""Rule evaluators: turn what the pipeline sees into events.

The events are the predetermined situations that décret n° 2023-828 lets algorithmic video
processing report (abandoned object, wrong direction, intrusion, person on the ground, crowd
movement, excessive density, fire start), plus loitering and line-crossing counts. Rules look at
boxes, masks and pixels, never at faces or identities.

Each rule is built as ``Rule(params, zones, schedule=None)`` for one camera and keeps its own
state. ``evaluate(analysis)`` returns the events of that frame: a situation fires once when it
starts, stays quiet while it lasts, and may fire again once it has been over for
``clear_seconds`` — so the caller can deduplicate per (camera, rule, zone). Outside its schedule a
rule says nothing and forgets what it was following.

Positions tested against zones are bottom-centres of boxes (where a person stands). Pixel sizes
and speeds are in pixels of the analysed frame; times are ``FrameAnalysis.t`` seconds.
"""

from dataclasses import fields

from .base import WHOLE_FRAME, Rule, RuleParams, Schedule
from .crowds import (
    CrowdMovement,
    CrowdMovementParams,
    Density,
    DensityParams,
    LateGathering,
    LateGatheringParams,
)
from .fire import FireSmoke, FireSmokeParams
from .lines import LineCrossing, LineCrossingParams
from .objects import AbandonedObject, AbandonedObjectParams
from .people import (
    Intrusion,
    IntrusionParams,
    Loitering,
    LoiteringParams,
    PersonOnGround,
    PersonOnGroundParams,
    WrongDirection,
    WrongDirectionParams,
)

__all__ = [
    "WHOLE_FRAME", "Rule", "RuleParams", "Schedule", "RULES", "build_rule",
    "AbandonedObject", "AbandonedObjectParams", "CrowdMovement", "CrowdMovementParams",
    "Density", "DensityParams", "FireSmoke", "FireSmokeParams", "Intrusion", "IntrusionParams",
    "LateGathering", "LateGatheringParams", "LineCrossing", "LineCrossingParams", "Loitering",
    "LoiteringParams",
    "PersonOnGround", "PersonOnGroundParams", "WrongDirection", "WrongDirectionParams",
]

# --- registry -----------------------------------------------------------------------------------

RULES: dict[str, type[Rule]] = {rule.name: rule for rule in (
    AbandonedObject, WrongDirection, Intrusion, PersonOnGround, CrowdMovement, Density,
    FireSmoke, LateGathering, Loitering, LineCrossing)}


def build_rule(name: str, params: dict | None, zones=(), schedule: Schedule | None = None) -> Rule:
    """The rule ``name`` for one camera, from its parameters as stored (a plain dict)."""
    rule = RULES.get(name)
    if rule is None:
        raise ValueError(f"Règle inconnue : « {name} ».")
    params = dict(params or {})
    known = {f.name for f in fields(rule.Params)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"Règle « {name} » : paramètre(s) inconnu(s) : {', '.join(unknown)}.")
    return rule(rule.Params(**params), list(zones), schedule)
