"""The single inbox: alerts from every source, deduplicated, acknowledged, escalated."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from controlroom import geo, journal
from controlroom import selectors as zones
from controlroom.errors import StateConflict
from controlroom.permissions import require
from controlroom.points import checked_point
from incidents.models import Alert, Category, Incident, PartnerSystem
from incidents.services import incidents as incident_services
from incidents.services.common import incident_record

MAX_EVIDENCE_BYTES = 64 * 1024
# Alerts from these sources may be gathered with another emitter's alert of the same event.
GROUPED_SOURCES = (Alert.Source.CAMERA, Alert.Source.SOUND, Alert.Source.SENSOR)
# The sources listed on one alert (the count goes on beyond).
MAX_SOURCES_LISTED = 50


@dataclass(frozen=True)
class Received:
    alert: Alert
    created: bool  # False: an existing alert was counted again or returned as is


def _alert_payload(alert: Alert, **extra) -> dict:
    return {
        "alert": alert.pk,
        "source": alert.source,
        "category": alert.category.code,
        "severity": alert.severity,
        "title": alert.title,
        "lat": alert.lat,
        "lon": alert.lon,
        "sector": alert.sector_id,
        "status": alert.status,
        "repeat_count": alert.repeat_count,
        "source_count": alert.source_count,
        "exercise": alert.exercise_id,
        **extra,
    }


def _record(alert: Alert, type: str, by, **extra):
    actor = by.actor_label if isinstance(by, PartnerSystem) else by
    return journal.record(type=type, subject=alert, actor=actor,
                          payload=_alert_payload(alert, **extra))


def _check_evidence(evidence) -> dict:
    if evidence is None:
        return {}
    if not isinstance(evidence, dict):
        raise ValidationError({"evidence": ["Les éléments doivent être un objet JSON."]})
    if len(journal.canonical_text(journal.to_json_value(evidence)).encode()) > MAX_EVIDENCE_BYTES:
        raise ValidationError({"evidence": ["Les éléments dépassent 64 Kio."]})
    return evidence


@transaction.atomic
def alert_receive(
    *,
    by,
    source: str,
    category: Category,
    title: str,
    lat: float,
    lon: float,
    severity: int = 3,
    occurred_at: datetime | None = None,
    evidence: dict | None = None,
    dedup_key: str = "",
    source_system: str = "",
    source_ref: str = "",
    exercise=None,
    emitter: str = "",
) -> Received:
    """Take an alert into the inbox.

    Idempotent on (source, source system, source reference): the same report twice returns the
    first alert. An open alert of the same source and source system, with the same category and
    dedup key, seen within the category's window is counted again instead of duplicated: a dedup
    key means something to its emitter only, so no emitter can reach another's alerts with it.
    A partner system (``by``) needs the alerts scope, and its alerts are its own: source
    "partner", source system its code.

    One event, one alert: a sensor or camera naming itself (``emitter``, e.g. ``camera:CAM-12``)
    whose alert has the category of an open alert from another sensor or camera, seen within
    ``ALERT_GROUP_SECONDS`` and ``ALERT_GROUP_RADIUS_M`` of it, is gathered on that alert as
    one more source (journaled ``alert.grouped``) instead of making a second alert.
    """
    if isinstance(by, PartnerSystem):
        if not by.allows(PartnerSystem.Scope.ALERTS):
            raise PermissionDenied("Ce système partenaire ne peut pas créer d'alertes.")
        source, source_system, partner = Alert.Source.PARTNER, by.code, by
    else:
        require(by, "incidents.add_alert", "Vous n'avez pas le droit de créer une alerte.")
        partner = None
    if source not in Alert.Source.values:
        raise ValidationError({"source": [f"Source inconnue : « {source} »."]})
    lat, lon = checked_point(lat, lon)
    evidence = _check_evidence(evidence)
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + timedelta(minutes=5):
        raise ValidationError({"occurred_at": ["La date de l'alerte est dans le futur."]})
    # Serialise arrivals of one category, so two identical alerts cannot both be created.
    category = Category.objects.select_for_update().get(pk=category.pk)

    if source_ref:
        existing = Alert.objects.filter(
            source=source, source_system=source_system, source_ref=source_ref
        ).first()
        if existing:
            return Received(existing, created=False)

    if dedup_key:
        since = now - timedelta(minutes=category.dedup_window_minutes)
        repeated = (
            Alert.objects.select_for_update()
            .filter(category=category, source=source, source_system=source_system,
                    dedup_key=dedup_key, status__in=Alert.OPEN_STATUSES, last_seen_at__gte=since)
            .order_by("-last_seen_at")
            .first()
        )
        if repeated:
            return Received(_count_again(repeated, by=by, severity=severity, now=now,
                                         source_ref=source_ref,
                                         joining=_source(source, emitter, title, lat, lon, now)),
                            created=False)

    if emitter and source in GROUPED_SOURCES:
        same_event = _same_event(category=category, lat=lat, lon=lon, now=now,
                                 exercise=exercise, emitter=emitter)
        if same_event is not None:
            return Received(_count_again(same_event, by=by, severity=severity, now=now,
                                         source_ref=source_ref,
                                         joining=_source(source, emitter, title, lat, lon, now)),
                            created=False)

    alert = Alert(
        source=source,
        source_system=source_system,
        source_ref=source_ref,
        partner=partner,
        category=category,
        severity=severity,
        title=(title or "").strip() or category.label,
        occurred_at=occurred_at,
        received_at=now,
        last_seen_at=now,
        evidence=evidence,
        dedup_key=dedup_key,
        exercise=exercise,
        sources=[_source(source, emitter, title, lat, lon, now)] if emitter else [],
    )
    alert.set_point(lat, lon)
    alert.sector = zones.sector_at(lat=lat, lon=lon)
    alert.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError:
        # Another writer stored the same (source, reference) first: answer with theirs.
        return Received(Alert.objects.get(source=source, source_system=source_system,
                                           source_ref=source_ref), created=False)
    _record(alert, "alert.received", by, evidence=evidence, source_system=source_system,
            source_ref=source_ref)
    return Received(alert, created=True)


def _source(source: str, emitter: str, title: str, lat: float, lon: float,
            now: datetime) -> dict:
    return {"source": source, "emitter": emitter, "title": (title or "").strip()[:200],
            "lat": round(lat, 6), "lon": round(lon, 6), "at": now.isoformat()}


def _same_event(*, category: Category, lat: float, lon: float, now: datetime,
                exercise, emitter: str) -> Alert | None:
    """The open sensor or camera alert of this category nearest to the point, seen within the
    grouping window and radius, from other emitters only (what one emitter tells apart with
    its dedup keys, e.g. two zones of a camera, stays apart); None when grouping is off or
    there is none."""
    window = settings.ALERT_GROUP_SECONDS
    if window <= 0:
        return None
    candidates = (
        Alert.objects.select_for_update()
        .filter(category=category, source__in=GROUPED_SOURCES, status__in=Alert.OPEN_STATUSES,
                last_seen_at__gte=now - timedelta(seconds=window),
                exercise=exercise)
        .order_by("pk")
    )
    radius = settings.ALERT_GROUP_RADIUS_M
    # Only alerts whose emitters are known gather others (not a rule's or an exercise's).
    near = [(geo.distance_m(lat, lon, a.lat, a.lon), a.pk, a) for a in candidates
            if a.sources and emitter not in {item.get("emitter") for item in a.sources}]
    near = [item for item in near if item[0] <= radius]
    return min(near, key=lambda item: item[:2])[2] if near else None


def _count_again(alert: Alert, *, by, severity: int, now: datetime, source_ref: str,
                 joining: dict | None = None, **extra) -> Alert:
    """One more occurrence of an open alert; from an emitter it has not heard yet (``joining``),
    one more source too, journaled as the grouping it is."""
    alert.repeat_count += 1
    alert.last_seen_at = now
    alert.severity = min(alert.severity, severity)  # 1 is the most serious
    fields = ["repeat_count", "last_seen_at", "severity"]
    known = {item.get("emitter") for item in alert.sources or []}
    new_source = joining is not None and joining["emitter"] and joining["emitter"] not in known
    if new_source:
        alert.source_count += 1
        if len(alert.sources or []) < MAX_SOURCES_LISTED:
            alert.sources = [*(alert.sources or []), joining]
        fields += ["source_count", "sources"]
    alert.save(update_fields=fields)
    if new_source:
        _record(alert, "alert.grouped", by, source_ref=source_ref, joined=joining, **extra)
    else:
        _record(alert, "alert.repeated", by, source_ref=source_ref, **extra)
    return alert


@transaction.atomic
def alert_repeat(*, alert: Alert, by, severity: int = 4, source_ref: str = "", **extra) -> Alert:
    """Count one more report of what an open alert already says (a grouped citizen report…)."""
    require(by, "incidents.add_alert", "Vous n'avez pas le droit de créer une alerte.")
    alert = _locked_open(alert)
    return _count_again(alert, by=by, severity=severity, now=timezone.now(),
                        source_ref=source_ref, **extra)


@transaction.atomic
def alert_locate(*, alert: Alert, by, lat: float, lon: float, radius_m: float,
                 evidence: dict | None = None) -> Alert:
    """Move an open alert to a better estimate of where it happens (e.g. a sound located by
    several sensors), with its uncertainty radius; ``evidence`` keys are added to its evidence."""
    require(by, "incidents.change_alert", "Vous n'avez pas le droit de traiter les alertes.")
    alert = _locked_open(alert)
    lat, lon = checked_point(lat, lon)
    alert.set_point(lat, lon)
    alert.sector = zones.sector_at(lat=lat, lon=lon)
    alert.evidence = _check_evidence({**(alert.evidence or {}), **(evidence or {}),
                                      "radius_m": round(float(radius_m), 1)})
    alert.save(update_fields=["lat", "lon", "h3", "sector", "evidence"])
    _record(alert, "alert.located", by, radius_m=alert.evidence["radius_m"],
            evidence=alert.evidence)
    return alert


def _locked_open(alert: Alert) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if not alert.is_open:
        raise StateConflict(f"Cette alerte est déjà {alert.get_status_display()}.")
    return alert


def _acknowledge(alert: Alert, by) -> None:
    now = timezone.now()
    alert.acknowledged_by = by if not isinstance(by, str) else None
    alert.acknowledged_at = now
    alert.ack_delay_seconds = (now - alert.received_at).total_seconds()


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by) -> Alert:
    """An operator has seen the alert; the delay since its arrival is kept for statistics."""
    require(by, "incidents.change_alert", "Vous n'avez pas le droit de traiter les alertes.")
    alert = _locked_open(alert)
    if alert.status == Alert.Status.ACKNOWLEDGED:
        raise StateConflict("Cette alerte est déjà acquittée.")
    _acknowledge(alert, by)
    alert.status = Alert.Status.ACKNOWLEDGED
    alert.save()
    _record(alert, "alert.acknowledged", by, ack_delay_seconds=alert.ack_delay_seconds)
    return alert


@transaction.atomic
def alert_dismiss(*, alert: Alert, by, reason: str, note: str = "") -> Alert:
    """Set an alert aside, always with a reason."""
    require(by, "incidents.change_alert", "Vous n'avez pas le droit de traiter les alertes.")
    if reason not in Alert.DismissReason.values:
        raise ValidationError({"reason": ["Indiquez un motif valable pour écarter l'alerte."]})
    if reason == Alert.DismissReason.OTHER and not note.strip():
        raise ValidationError({"note": ["Précisez le motif « Autre »."]})
    alert = _locked_open(alert)
    if alert.acknowledged_at is None:
        _acknowledge(alert, by)
    alert.status = Alert.Status.DISMISSED
    alert.dismiss_reason = reason
    alert.dismiss_note = note.strip()[:500]
    alert.closed_by = alert.acknowledged_by
    alert.closed_at = timezone.now()
    alert.save()
    _record(alert, "alert.dismissed", by, reason=reason, note=alert.dismiss_note)
    return alert


@transaction.atomic
def alert_attach(*, alert: Alert, incident: Incident, by) -> Alert:
    """Link an alert to an open incident (its evidence joins the incident's story)."""
    require(by, "incidents.change_alert", "Vous n'avez pas le droit de traiter les alertes.")
    alert = _locked_open(alert)
    if not incident.is_open:
        raise StateConflict("On ne rattache pas une alerte à un incident terminé.", field="incident")
    if alert.exercise_id != incident.exercise_id:
        raise StateConflict("Exercice et réalité ne se mélangent pas.", field="incident")
    if alert.acknowledged_at is None:
        _acknowledge(alert, by)
    alert.status = Alert.Status.ATTACHED
    alert.incident = incident
    alert.closed_by = alert.acknowledged_by
    alert.closed_at = timezone.now()
    alert.save()
    _record(alert, "alert.attached", by, incident=incident.pk)
    incident_record(
        incident=incident, type="incident.alert_attached", by=by,
        payload={"alert": alert.pk, "source": alert.source, "title": alert.title,
                 "evidence": alert.evidence},
    )
    return alert


@transaction.atomic
def alert_open_incident(
    *, alert: Alert, by, title: str = "", priority: int | None = None,
    category: Category | None = None, description: str = "",
) -> Incident:
    """Open a new incident from an alert, at the alert's place, and attach the alert to it."""
    require(by, "incidents.change_alert", "Vous n'avez pas le droit de traiter les alertes.")
    _locked_open(alert)
    incident = incident_services.incident_create(
        by=by,
        category=category or alert.category,
        title=title or alert.title,
        lat=alert.lat,
        lon=alert.lon,
        priority=priority or min(alert.severity, (category or alert.category).default_priority),
        description=description,
        exercise=alert.exercise,
    )
    incident_services.incident_transition(incident=incident, to="acknowledged", by=by)
    alert_attach(alert=alert, incident=incident, by=by)
    incident.refresh_from_db()
    return incident


def escalation_delay() -> timedelta:
    return timedelta(seconds=settings.ALERT_ESCALATION_SECONDS)


def alerts_escalate_overdue(*, now: datetime | None = None) -> int:
    """Alerts nobody acknowledged within the delay go to the supervisors, once each.

    Each alert is claimed with a conditional update, so several workers never escalate twice.
    """
    now = now or timezone.now()
    overdue = Alert.objects.filter(
        status=Alert.Status.NEW, escalated_at=None, received_at__lt=now - escalation_delay()
    ).values_list("pk", flat=True)
    escalated = 0
    for pk in list(overdue[:500]):
        with transaction.atomic():
            if not Alert.objects.filter(pk=pk, status=Alert.Status.NEW, escalated_at=None).update(
                escalated_at=now
            ):
                continue
            alert = Alert.objects.get(pk=pk)
            waited = (now - alert.received_at).total_seconds()
            _record(alert, "alert.escalated", "system:escalation", waited_seconds=round(waited),
                    to_role="supervisor")
            escalated += 1
    return escalated
