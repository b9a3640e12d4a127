"""Writes of the citizens app: taking a report, triaging it into an alert, public status, erasure.

Every refusal is a ``ValidationError`` raised before anything is written. A report becomes an
alert of its service's category, or counts again on the open alert of a report of the same
service close by in space and time (one broken street light, twenty reports, one alert).
"""

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from citizens.models import (
    ClientApplication,
    Report,
    ReportPhoto,
    ReportUpdate,
    Service,
    ServiceAttribute,
    new_tracking_code,
)
from citizens.photos import CleanPhoto, PhotoError, clean_photo
from controlroom import geo, journal
from controlroom.errors import StateConflict
from controlroom.permissions import require
from controlroom.points import checked_point
from incidents import selectors as incident_selectors
from incidents.services import alerts as alert_services

logger = logging.getLogger(__name__)

WEB_ACTOR = "citizen:web"
TRACKING_ACTOR = "citizen:tracking"
MAX_DESCRIPTION = 4000
MAX_PHOTOS = 5
MAX_ATTRIBUTE_LENGTH = 1000
EXCERPT = 280


@dataclass
class Contact:
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    account_id: str = ""

    def cleaned(self) -> dict:
        return {name: (value or "").strip() for name, value in self.__dict__.items()}


@dataclass
class Submission:
    """What a citizen sends, from the form or from an Open311 client."""

    service: Service
    lat: float | str | None
    lon: float | str | None
    description: str = ""
    address_string: str = ""
    attributes: dict = field(default_factory=dict)
    photos: list[bytes] = field(default_factory=list)
    media_url: str = ""
    contact: Contact = field(default_factory=Contact)
    consent: bool = False


# --- checks ----------------------------------------------------------------------------------
def clean_attributes(service: Service, raw: dict) -> dict:
    """The answers to the service's questions, checked against its definition.

    ``raw`` maps attribute codes to a string or a list of strings (multi-value lists).
    Unknown codes are ignored, as Open311 clients may send more than a service asks.
    """
    answers, errors = {}, {}
    for attribute in service.attributes.all():
        value = raw.get(attribute.code)
        values = [v for v in (value if isinstance(value, (list, tuple)) else [value])
                  if v not in (None, "")]
        values = [str(v).strip() for v in values]
        if not values:
            if attribute.required:
                errors[attribute.code] = f"Répondez à la question « {attribute.description} »."
            continue
        try:
            answers[attribute.code] = _attribute_value(attribute, values)
        except ValueError as exc:
            errors[attribute.code] = f"« {attribute.description} » : {exc}"
    if errors:
        raise ValidationError({"attributes": list(errors.values())})
    return answers


def _attribute_value(attribute: ServiceAttribute, values: list[str]):
    kind = ServiceAttribute.Datatype
    if attribute.datatype == kind.MULTI:
        unknown = [v for v in values if v not in attribute.value_keys()]
        if unknown:
            raise ValueError("choix inconnu.")
        return sorted(set(values))
    if len(values) > 1:
        raise ValueError("une seule réponse est attendue.")
    value = values[0]
    if len(value) > MAX_ATTRIBUTE_LENGTH:
        raise ValueError(f"{MAX_ATTRIBUTE_LENGTH} caractères au plus.")
    if attribute.datatype == kind.SINGLE and value not in attribute.value_keys():
        raise ValueError("choix inconnu.")
    if attribute.datatype == kind.NUMBER:
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            raise ValueError("un nombre est attendu.") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("un nombre est attendu.")
        return number
    if attribute.datatype == kind.DATETIME:
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError("une date et une heure sont attendues (AAAA-MM-JJTHH:MM).")
        return moment.isoformat()
    return value


def _clean_photos(photos: list[bytes]) -> list[CleanPhoto]:
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": [gettext("%(max)s photos au plus.")
                                          % {"max": MAX_PHOTOS}]})
    cleaned = []
    for number, data in enumerate(photos, start=1):
        try:
            cleaned.append(clean_photo(data))
        except PhotoError as exc:
            prefix = gettext("Photo %(n)s : ") % {"n": number} if len(photos) > 1 else ""
            raise ValidationError({"photos": [prefix + exc.translated(gettext)]}) from None
    return cleaned


def _check(submission: Submission) -> tuple[float, float, str]:
    service = submission.service
    if not service.active:
        raise ValidationError({"service": ["Ce service n'accepte plus de signalements."]})
    description = (submission.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            {"description": [f"La description dépasse {MAX_DESCRIPTION} caractères."]}
        )
    if submission.lat in (None, "") or submission.lon in (None, ""):
        raise ValidationError({"lat": ["Indiquez le lieu du problème sur la carte."]})
    lat, lon = checked_point(submission.lat, submission.lon)
    return lat, lon, description


# --- taking a report -------------------------------------------------------------------------
@transaction.atomic
def report_submit(*, submission: Submission, channel: str = Report.Channel.WEB,
                  client: ClientApplication | None = None) -> Report:
    """Store a citizen's report and put it in the operators' inbox (a new or a grouped alert)."""
    lat, lon, description = _check(submission)
    attributes = clean_attributes(submission.service, submission.attributes or {})
    photos = _clean_photos(submission.photos)
    contact = submission.contact.cleaned()
    if any(contact.values()) and channel == Report.Channel.WEB and not submission.consent:
        raise ValidationError(
            {"consent": ["Cochez la case d'accord pour que nous puissions vous recontacter."]}
        )
    actor = client.actor_label if client else WEB_ACTOR
    now = timezone.now()
    # One report of a service at a time, so two reports of one street light make one alert.
    service = Service.objects.select_for_update().get(pk=submission.service.pk)

    report = Report(
        service=service, channel=channel, client=client, description=description,
        address_string=(submission.address_string or "").strip()[:255], attributes=attributes,
        media_url=(submission.media_url or "").strip(), requested_at=now, updated_at=now,
        contact_consent_at=now if any(contact.values()) else None, **contact,
    )
    report.set_point(lat, lon)
    report.full_clean(exclude=["code", "alert"])
    _save_with_new_code(report)
    ReportUpdate.objects.create(report=report, status=report.status, at=now)

    written = []
    try:
        for photo in photos:
            stored = ReportPhoto(report=report, width=photo.width, height=photo.height,
                                 size=len(photo.content))
            stored.image.save("photo.jpg", ContentFile(photo.content), save=True)
            written.append(stored.image.name)
        alert, grouped = _triage(report, actor=actor, now=now)
    except BaseException:
        for name in written:
            ReportPhoto._meta.get_field("image").storage.delete(name)
        raise
    report.alert = alert
    report.save(update_fields=["alert"])
    journal.record(
        type="citizen_report.received", subject=report, actor=actor,
        payload={**_payload(report), "channel": channel, "grouped": grouped,
                 "photos": len(photos), "client": client.code if client else ""},
    )
    if client:
        ClientApplication.objects.filter(pk=client.pk).update(last_used_at=now)
    return report


def _save_with_new_code(report: Report) -> None:
    for _attempt in range(5):
        report.code = new_tracking_code()
        try:
            with transaction.atomic():
                report.save()
            return
        except IntegrityError:
            if Report.objects.filter(code=report.code).exists():
                continue
            raise
    raise RuntimeError("Could not draw a free tracking code.")


def _payload(report: Report, **extra) -> dict:
    return {
        "report": report.pk,
        "service": report.service.code,
        "service_name": report.service.name,
        "status": report.status,
        "lat": report.lat,
        "lon": report.lon,
        "alert": report.alert_id,
        **extra,
    }


def _open_group(report: Report, now: datetime):
    """The open alert of the nearest recent report of the same service within its radius."""
    service = report.service
    radius = service.group_radius_m
    if radius <= 0:
        return None
    dlat = radius / 111_000
    dlon = radius / (111_000 * max(0.1, math.cos(math.radians(report.lat))))
    candidates = (
        Report.objects.filter(
            service=service,
            requested_at__gte=now - timedelta(hours=service.group_window_hours),
            alert__status__in=incident_selectors.ALERT_OPEN_STATUSES,
            lat__range=(report.lat - dlat, report.lat + dlat),
            lon__range=(report.lon - dlon, report.lon + dlon),
        )
        .exclude(pk=report.pk)
        .select_related("alert")
    )
    best, best_distance = None, None
    for other in candidates:
        distance = geo.distance_m(report.lat, report.lon, other.lat, other.lon)
        if distance <= radius and (best_distance is None or distance < best_distance):
            best, best_distance = other.alert, distance
    return best


def _triage(report: Report, *, actor: str, now: datetime):
    service = report.service
    group = _open_group(report, now)
    if group is not None:
        alert = alert_services.alert_repeat(alert=group, by=actor, severity=service.severity,
                                            report=report.pk)
        return alert, True
    received = alert_services.alert_receive(
        by=actor,
        source=incident_selectors.AlertSource.CITIZEN,
        category=service.category,
        title=f"Signalement citoyen : {service.name}",
        lat=report.lat,
        lon=report.lon,
        severity=service.severity,
        occurred_at=now,
        evidence={
            "citizen_report": report.pk,
            "service": service.code,
            "description": report.description[:EXCERPT],
            "place": report.address_string,
            "photos": report.photos.count(),
            "url": reverse("citizens:staff-report", args=[report.pk]),
        },
        source_system="citizens",
        source_ref=str(report.pk),
    )
    return received.alert, False


# --- public status ---------------------------------------------------------------------------
@transaction.atomic
def report_set_status(*, report: Report, by, status: str, note: str = "",
                      whole_group: bool = False) -> list[Report]:
    """Change the public status of a report (and of the reports grouped with it, if asked).

    The note is public: the citizen reads it on the tracking page, Open311 clients as
    ``status_notes``. A rejection always says why.
    """
    require(by, "citizens.change_report", "Vous n'avez pas le droit de traiter les signalements.")
    if status not in Report.Status.values:
        raise ValidationError({"status": [f"État inconnu : « {status} »."]})
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": ["Le message au public dépasse 1000 caractères."]})
    if status == Report.Status.REJECTED and not note:
        raise ValidationError({"note": ["Indiquez au citoyen la raison du rejet."]})
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status == status and not note:
        raise StateConflict(f"Ce signalement est déjà « {report.get_status_display()} ».")
    targets = [report]
    if whole_group and report.alert_id:
        targets += list(
            Report.objects.select_for_update()
            .filter(alert_id=report.alert_id).exclude(pk=report.pk).exclude(status=status)
        )
    now = timezone.now()
    for target in targets:
        previous = target.status
        target.status = status
        target.status_notes = note
        target.updated_at = now
        target.closed_at = now if status in Report.CLOSED_STATUSES else None
        target.save(update_fields=["status", "status_notes", "updated_at", "closed_at"])
        ReportUpdate.objects.create(report=target, status=status, note=note, at=now,
                                    by=None if isinstance(by, str) else by)
        journal.record(type="citizen_report.status_changed", subject=target, actor=by,
                       payload=_payload(target, previous=previous, note=note))
    return targets


@transaction.atomic
def report_erase_contact(*, report: Report, by=TRACKING_ACTOR) -> Report:
    """Forget the citizen's contact data (at their request, or when its retention ends)."""
    if not isinstance(by, str):
        require(by, "citizens.change_report",
                "Vous n'avez pas le droit de traiter les signalements.")
    report = Report.objects.select_for_update().get(pk=report.pk)
    if not report.has_contact:
        raise StateConflict("Ce signalement ne garde aucune coordonnée.")
    for name in Contact.__dataclass_fields__:
        setattr(report, name, "")
    report.contact_erased_at = timezone.now()
    report.save()
    journal.record(type="citizen_report.contact_erased", subject=report, actor=by,
                   payload={"report": report.pk})
    return report


def contacts_erase_expired(*, now: datetime | None = None) -> int:
    """Contact data is kept while a report is handled and a while after, then erased."""
    now = now or timezone.now()
    limit = now - timedelta(days=settings.CITIZEN_CONTACT_RETENTION_DAYS)
    expired = Report.objects.filter(closed_at__lt=limit, contact_erased_at=None)
    erased = 0
    for report in expired.iterator():
        if report.has_contact:
            report_erase_contact(report=report, by="system:retention")
            erased += 1
    return erased


# --- Open311 client applications -------------------------------------------------------------
def client_for_key(key: str) -> ClientApplication | None:
    if not key:
        return None
    return ClientApplication.objects.filter(
        key_digest=ClientApplication.digest(key), active=True
    ).first()
