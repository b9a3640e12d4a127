"""The incident life cycle as an explicit state machine (pure: no database).

    new → acknowledged → dispatched → on_scene → resolved → closed, and cancelled.

Each allowed transition names the permission it needs; anything not listed is refused.
"""

from dataclasses import dataclass

NEW, ACKNOWLEDGED, DISPATCHED, ON_SCENE = "new", "acknowledged", "dispatched", "on_scene"
RESOLVED, CLOSED, CANCELLED = "resolved", "closed", "cancelled"
STATUSES = (NEW, ACKNOWLEDGED, DISPATCHED, ON_SCENE, RESOLVED, CLOSED, CANCELLED)
LABELS = {
    NEW: "nouveau", ACKNOWLEDGED: "pris en compte", DISPATCHED: "moyens engagés",
    ON_SCENE: "sur place", RESOLVED: "résolu", CLOSED: "clos", CANCELLED: "annulé",
}

HANDLE = "incidents.change_incident"  # operators and supervisors
SUPERVISE = "incidents.close_incident"  # supervisors


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    permission: str
    needs_reason: bool = False


TRANSITIONS = {
    (t.source, t.target): t
    for t in [
        Transition(NEW, ACKNOWLEDGED, HANDLE),
        Transition(NEW, CANCELLED, HANDLE, needs_reason=True),
        Transition(ACKNOWLEDGED, DISPATCHED, HANDLE),
        # Handled without sending anyone (e.g. settled by a camera check or a phone call).
        Transition(ACKNOWLEDGED, RESOLVED, HANDLE),
        Transition(ACKNOWLEDGED, CANCELLED, HANDLE, needs_reason=True),
        Transition(DISPATCHED, ON_SCENE, HANDLE),
        Transition(DISPATCHED, RESOLVED, HANDLE),
        Transition(DISPATCHED, CANCELLED, HANDLE, needs_reason=True),
        Transition(ON_SCENE, RESOLVED, HANDLE),
        Transition(RESOLVED, CLOSED, SUPERVISE),
        # Reopening a resolved incident is a supervisor's decision.
        Transition(RESOLVED, ACKNOWLEDGED, SUPERVISE, needs_reason=True),
    ]
}

TERMINAL = (CLOSED, CANCELLED)


class TransitionRefused(Exception):
    def __init__(self, message: str, *, forbidden: bool = False):
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def allowed_targets(source: str, permissions: set[str] | frozenset | None = None) -> list[str]:
    """The states reachable from ``source``; with ``permissions``, only those they allow."""
    return [target for (s, target), transition in TRANSITIONS.items()
            if s == source and (permissions is None or transition.permission in permissions)]


def check(source: str, target: str, *, permissions: set[str] | frozenset, reason: str = "") -> Transition:
    """The transition from ``source`` to ``target``, or TransitionRefused saying why not."""
    if target not in STATUSES:
        raise TransitionRefused(f"État inconnu : « {target} ».")
    transition = TRANSITIONS.get((source, target))
    if transition is None:
        if source in TERMINAL:
            raise TransitionRefused(
                f"L'incident est {LABELS[source]} : il ne peut plus changer d'état."
            )
        allowed = ", ".join(LABELS[t] for t in allowed_targets(source)) or "aucun"
        raise TransitionRefused(
            f"Un incident {LABELS[source]} ne peut pas passer à l'état {LABELS[target]} "
            f"(possibles : {allowed})."
        )
    if transition.permission not in permissions:
        raise TransitionRefused(
            f"Vous n'avez pas le droit de faire passer un incident de l'état {LABELS[source]} "
            f"à l'état {LABELS[target]}.",
            forbidden=True,
        )
    if transition.needs_reason and not reason.strip():
        raise TransitionRefused(f"Un motif est obligatoire pour passer à l'état {LABELS[target]}.")
    return transition
