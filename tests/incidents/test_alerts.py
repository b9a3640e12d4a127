"""The single inbox: reception, deduplication, idempotency, operator actions, escalation."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from controlroom.errors import StateConflict
from controlroom.models import Event
from incidents.models import Alert, Incident
from incidents.services import alerts as services
from tests.incidents.conftest import DARCY, PARIS, REPUBLIQUE


@pytest.fixture
def receive(city, categories, people):
    def make(category="attroupement", place=DARCY, by=None, **extra):
        extra.setdefault("source", "camera")
        return services.alert_receive(
            by=by or "system:video", category=categories[category], title="Attroupement",
            lat=place[0], lon=place[1], **extra,
        )

    return make


def _events(type):
    return list(Event.objects.filter(type=type).order_by("seq"))


@pytest.mark.django_db
def test_an_alert_is_located_and_journaled(receive):
    received = receive(severity=3, evidence={"persons": 12}, place=(47.3220, 5.0415))
    alert = received.alert
    assert received.created
    assert alert.sector.code == "centre-ville"
    assert len(alert.h3) == 15
    [event] = _events("alert.received")
    assert event.subject_id == str(alert.pk)
    assert event.actor_label == "system:video"
    assert event.payload["evidence"] == {"persons": 12}


@pytest.mark.django_db
def test_repeats_within_the_window_count_on_the_open_alert(receive):
    first = receive(dedup_key="cam-1:attroupement").alert
    again = receive(dedup_key="cam-1:attroupement", severity=1)
    assert not again.created and again.alert.pk == first.pk
    first.refresh_from_db()
    assert first.repeat_count == 2
    assert first.severity == 1  # the most serious report wins
    assert Alert.objects.count() == 1
    assert len(_events("alert.repeated")) == 1


@pytest.mark.django_db
def test_repeats_after_the_window_open_a_new_alert(receive, categories):
    first = receive(dedup_key="cam-1:attroupement").alert
    window = categories["attroupement"].dedup_window_minutes
    Alert.objects.filter(pk=first.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=window, seconds=1)
    )
    second = receive(dedup_key="cam-1:attroupement")
    assert second.created and second.alert.pk != first.pk


@pytest.mark.django_db
def test_dedup_is_per_category_and_ignores_handled_alerts(receive, people):
    first = receive(dedup_key="k").alert
    other_category = receive(category="rixe", dedup_key="k")
    assert other_category.created
    services.alert_dismiss(alert=first, by=people["operator"], reason="false_alarm")
    after_dismissal = receive(dedup_key="k")
    assert after_dismissal.created


@pytest.mark.django_db
def test_the_same_source_reference_is_idempotent(receive):
    first = receive(source="partner", source_system="divia", source_ref="EVT-42")
    second = receive(source="partner", source_system="divia", source_ref="EVT-42")
    assert first.created and not second.created
    assert first.alert.pk == second.alert.pk
    assert Alert.objects.count() == 1
    assert len(_events("alert.received")) == 1
    # Another system may use the same reference for its own alert.
    assert receive(source="partner", source_system="tcl", source_ref="EVT-42").created


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [
    {"place": PARIS},
    {"place": (95.0, 5.0)},
    {"source": "pigeon"},
    {"evidence": ["not", "an", "object"]},
    {"evidence": {"blob": "x" * 70_000}},
    {"occurred_at": "future"},
])
def test_bad_alerts_are_refused_and_change_nothing(receive, bad):
    if bad.get("occurred_at") == "future":
        bad = {"occurred_at": timezone.now() + timedelta(hours=1)}
    events = Event.objects.count()
    with pytest.raises(ValidationError):
        receive(**bad)
    assert Alert.objects.count() == 0
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_acknowledging_keeps_who_and_the_delay(receive, people):
    alert = receive().alert
    Alert.objects.filter(pk=alert.pk).update(received_at=timezone.now() - timedelta(seconds=42))
    alert = services.alert_acknowledge(alert=alert, by=people["operator"])
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == people["operator"]
    assert 42 <= alert.ack_delay_seconds < 60
    [event] = _events("alert.acknowledged")
    assert event.actor_id == people["operator"].pk
    with pytest.raises(StateConflict):
        services.alert_acknowledge(alert=alert, by=people["operator"])


@pytest.mark.django_db
def test_dismissal_needs_a_valid_reason(receive, people):
    alert = receive().alert
    with pytest.raises(ValidationError):
        services.alert_dismiss(alert=alert, by=people["operator"], reason="bored")
    with pytest.raises(ValidationError):
        services.alert_dismiss(alert=alert, by=people["operator"], reason="other", note=" ")
    alert.refresh_from_db()
    assert alert.status == "new"
    alert = services.alert_dismiss(
        alert=alert, by=people["operator"], reason="not_our_competence", note="Relève de la SNCF"
    )
    assert alert.status == "dismissed" and alert.closed_at is not None
    assert alert.ack_delay_seconds is not None  # dismissing is also a reaction
    [event] = _events("alert.dismissed")
    assert event.payload["reason"] == "not_our_competence"
    with pytest.raises(StateConflict):
        services.alert_dismiss(alert=alert, by=people["operator"], reason="duplicate")


@pytest.mark.django_db
def test_liaisons_cannot_handle_alerts(receive, people):
    alert = receive().alert
    with pytest.raises(PermissionDenied):
        services.alert_acknowledge(alert=alert, by=people["liaison_pn"])
    with pytest.raises(PermissionDenied):
        services.alert_receive(by=people["liaison_pn"], source="operator",
                               category=alert.category, title="x", lat=DARCY[0], lon=DARCY[1])


@pytest.mark.django_db
def test_attach_to_an_open_incident(receive, people, make_incident):
    alert = receive(evidence={"persons": 9}).alert
    incident = make_incident()
    alert = services.alert_attach(alert=alert, incident=incident, by=people["operator"])
    assert alert.status == "attached" and alert.incident == incident
    story = Event.objects.filter(type="incident.alert_attached", subject_id=str(incident.pk))
    assert story.get().payload["evidence"] == {"persons": 9}
    closed = make_incident()
    Incident.objects.filter(pk=closed.pk).update(status="closed")
    closed.refresh_from_db()
    other = receive(category="rixe").alert
    with pytest.raises(StateConflict):
        services.alert_attach(alert=other, incident=closed, by=people["operator"])


@pytest.mark.django_db
def test_open_an_incident_from_an_alert(receive, people):
    alert = receive(category="attroupement", place=REPUBLIQUE, severity=1).alert
    incident = services.alert_open_incident(alert=alert, by=people["operator"])
    assert incident.status == "acknowledged"
    assert incident.category.code == "attroupement" and incident.priority == 1
    assert (incident.lat, incident.lon) == (alert.lat, alert.lon)
    assert incident.sector == alert.sector
    alert.refresh_from_db()
    assert alert.incident == incident and alert.status == "attached"


@pytest.mark.django_db
def test_unacknowledged_alerts_escalate_once(receive, people, settings):
    settings.ALERT_ESCALATION_SECONDS = 60
    late = receive().alert
    seen = receive(category="rixe").alert
    fresh = receive(category="vol").alert
    old = timezone.now() - timedelta(seconds=61)
    Alert.objects.filter(pk__in=[late.pk, seen.pk]).update(received_at=old)
    services.alert_acknowledge(alert=seen, by=people["operator"])

    assert services.alerts_escalate_overdue() == 1
    # A second worker running at the same time finds nothing left to do.
    assert services.alerts_escalate_overdue() == 0
    late.refresh_from_db()
    assert late.escalated_at is not None
    [event] = _events("alert.escalated")
    assert event.subject_id == str(late.pk)
    assert event.payload["to_role"] == "supervisor"
    assert Alert.objects.get(pk=fresh.pk).escalated_at is None
