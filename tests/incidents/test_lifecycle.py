"""The incident life cycle: every allowed and every refused transition, per role."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied

from controlroom.errors import StateConflict
from controlroom.models import Event
from incidents import lifecycle
from incidents.models import Incident
from incidents.services.incidents import incident_transition

ALL_PAIRS = list(itertools.product(lifecycle.STATUSES, lifecycle.STATUSES))

EXPECTED_ALLOWED = {
    ("new", "acknowledged"), ("new", "cancelled"),
    ("acknowledged", "dispatched"), ("acknowledged", "resolved"), ("acknowledged", "cancelled"),
    ("dispatched", "on_scene"), ("dispatched", "resolved"), ("dispatched", "cancelled"),
    ("on_scene", "resolved"),
    ("resolved", "closed"), ("resolved", "acknowledged"),
}
SUPERVISOR_ONLY = {("resolved", "closed"), ("resolved", "acknowledged")}


def test_the_table_is_the_documented_life_cycle():
    assert set(lifecycle.TRANSITIONS) == EXPECTED_ALLOWED
    for source in lifecycle.TERMINAL:
        assert lifecycle.allowed_targets(source) == []


def _at(incident, status):
    Incident.objects.filter(pk=incident.pk).update(status=status)
    incident.refresh_from_db()
    return incident


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_every_transition_for_staff(make_incident, people, role):
    actor = people[role]
    incident = make_incident()
    for source, target in ALL_PAIRS:
        _at(incident, source)
        events_before = Event.objects.count()
        allowed = (source, target) in EXPECTED_ALLOWED and (
            role == "supervisor" or (source, target) not in SUPERVISOR_ONLY
        )
        reason = "motif de test"
        if allowed:
            incident = incident_transition(incident=incident, to=target, by=actor, reason=reason)
            assert incident.status == target
            event = Event.objects.order_by("-seq").filter(type="incident.status_changed").first()
            assert event.payload["from"] == source and event.payload["to"] == target
            assert event.actor_id == actor.pk
        else:
            expected = PermissionDenied if (source, target) in SUPERVISOR_ONLY else StateConflict
            with pytest.raises(expected):
                incident_transition(incident=incident, to=target, by=actor, reason=reason)
            incident.refresh_from_db()
            assert incident.status == source, (source, target)
            assert Event.objects.count() == events_before, (source, target)


@pytest.mark.django_db
def test_a_liaison_cannot_move_an_incident(make_incident, people):
    incident = make_incident()
    with pytest.raises(PermissionDenied):
        incident_transition(incident=incident, to="acknowledged", by=people["liaison_pn"])
    incident.refresh_from_db()
    assert incident.status == "new"


@pytest.mark.django_db
@pytest.mark.parametrize("source,target", [
    ("new", "cancelled"), ("resolved", "acknowledged"), ("dispatched", "cancelled"),
])
def test_cancelling_or_reopening_needs_a_reason(make_incident, people, source, target):
    incident = _at(make_incident(), source)
    with pytest.raises(StateConflict, match="motif"):
        incident_transition(incident=incident, to=target, by=people["supervisor"], reason="  ")
    incident.refresh_from_db()
    assert incident.status == source


@pytest.mark.django_db
def test_unknown_target_is_refused_clearly(make_incident, people):
    incident = make_incident()
    with pytest.raises(StateConflict, match="inconnu"):
        incident_transition(incident=incident, to="exploded", by=people["operator"])


@pytest.mark.django_db
def test_the_dates_of_the_life_cycle_are_kept(make_incident, people):
    incident = make_incident()
    operator, supervisor = people["operator"], people["supervisor"]
    incident = incident_transition(incident=incident, to="acknowledged", by=operator)
    assert incident.acknowledged_at is not None
    incident = incident_transition(incident=incident, to="resolved", by=operator)
    assert incident.resolved_at is not None
    incident = incident_transition(incident=incident, to="closed", by=supervisor)
    assert incident.closed_at is not None and not incident.is_open
