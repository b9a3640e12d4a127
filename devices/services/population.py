"""Population alerts: drafted by an operator, issued by a supervisor, published as CAP 1.2.

Issuing publishes the message at a stable URL and in the Atom feed, commands the message panels
(and, if asked, the sirens) of the area, and notifies the registered recipients (e-mail, webhook).
An update or a cancellation is a new message referencing the earlier ones. A ``status=Test``
message exercises the chain (message, test feed, recipients) without any panel or siren.
"""

import json
import logging
import textwrap
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from shapely.geometry import Point, Polygon, shape

from controlroom import journal
from controlroom import selectors as zones
from controlroom.errors import StateConflict
from controlroom.permissions import require
from devices import cap
from devices.models import AlertRecipient, Device, PopulationAlert
from devices.services import commands as command_services
from incidents.services import procedures as procedure_services

logger = logging.getLogger(__name__)

FIELDS = ("event", "category", "response_type", "urgency", "severity", "certainty", "headline",
          "description", "instruction", "area_name", "sector", "polygon", "expires",
          "siren_pattern", "incident", "step")
PANEL_LINES, PANEL_CHARS = 3, 20


# --- CAP -------------------------------------------------------------------------------------
def _area(alert: PopulationAlert) -> cap.CapArea:
    if alert.polygon:
        return cap.CapArea(description=alert.area_name,
                           polygons=[[tuple(point) for point in alert.polygon]])
    rings = []
    geometry = shape(alert.sector.geometry)
    for polygon in getattr(geometry, "geoms", [geometry]):
        rings.append([(lat, lon) for lon, lat in polygon.exterior.coords])
    return cap.CapArea(description=alert.area_name, polygons=rings)


# What the public is told to do, by CAP category, when the drafter did not say.
RESPONSE_BY_CATEGORY = {
    "CBRNE": "Shelter", "Env": "Shelter", "Fire": "Avoid", "Geo": "Prepare", "Met": "Prepare",
    "Health": "Monitor", "Infra": "Avoid", "Transport": "Avoid", "Security": "Avoid",
    "Rescue": "Avoid", "Safety": "Monitor", "Other": "Monitor",
}
CANCEL_INSTRUCTION = "Le danger est écarté : vous pouvez reprendre vos activités normales."


def response_type(alert: PopulationAlert) -> str:
    """The CAP <responseType>: AllClear for a cancellation, else the drafter's choice, else
    shelter when the sirens sound the alert signal, else what the alert's category calls for."""
    if alert.msg_type == PopulationAlert.MsgType.CANCEL:
        return "AllClear"
    if alert.response_type:
        return alert.response_type
    if alert.siren_pattern == "alerte":  # the national alert signal means: take shelter
        return "Shelter"
    return RESPONSE_BY_CATEGORY.get(alert.category, "Monitor")


def earlier_messages(alert: PopulationAlert, *, at) -> list[PopulationAlert]:
    """The issued messages this one follows, oldest first: the original Alert always, and every
    later one still valid at ``at`` (an expired Update no longer needs cancelling)."""
    chain = []
    previous = alert.references
    while previous is not None:
        chain.append(previous)
        previous = previous.references
    chain.reverse()
    return [m for m in chain if m.references_id is None or m.expires > at]


def public_page_url(alert: PopulationAlert) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "population-alert-page", args=[alert.identifier])


def to_cap(alert: PopulationAlert, *, identifier: str | None = None, sent=None) -> cap.CapMessage:
    sent = sent or alert.sent
    references = [(settings.CAP_SENDER, previous.identifier, timezone.localtime(previous.sent))
                  for previous in earlier_messages(alert, at=sent)]
    identifier = identifier or alert.identifier
    return cap.CapMessage(
        identifier=identifier,
        sender=settings.CAP_SENDER,
        sent=timezone.localtime(sent),  # CAP times carry the local offset
        msg_type=alert.msg_type,
        status=alert.cap_status,
        references=references,
        note="Message de test de la chaîne d'alerte : aucune action n'est requise."
        if alert.cap_status == PopulationAlert.CapStatus.TEST else "",
        info=[cap.CapInfo(
            event=alert.event, urgency=alert.urgency, severity=alert.severity,
            certainty=alert.certainty, headline=alert.headline, description=alert.description,
            instruction=alert.instruction, areas=[_area(alert)], category=[alert.category],
            response_type=[response_type(alert)],
            expires=timezone.localtime(alert.expires), sender_name=settings.CAP_SENDER_NAME,
            web=settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
                "population-alert-page", args=[identifier]),
            contact=settings.CAP_CONTACT,
        )],
    )


def _signing_material() -> tuple[bytes, bytes, bytes | None] | None:
    """(key, certificate, password) when CAP messages are to be signed, else None."""
    if not (settings.CAP_SIGNING_KEY_FILE and settings.CAP_SIGNING_CERT_FILE):
        return None
    try:
        with open(settings.CAP_SIGNING_KEY_FILE, "rb") as key, \
                open(settings.CAP_SIGNING_CERT_FILE, "rb") as cert:
            return key.read(), cert.read(), settings.CAP_SIGNING_KEY_PASSWORD.encode() or None
    except OSError as exc:
        raise cap.CapError(f"Clé ou certificat de signature CAP illisible : {exc}") from None


def cap_xml(alert: PopulationAlert) -> bytes:
    """The published CAP message, signed (XML-DSig, enveloped) when a key is configured."""
    document = cap.to_xml(to_cap(alert))
    material = _signing_material()
    if material is None:
        return document
    key, cert, password = material
    return cap.sign(document, key=key, cert=cert, key_password=password)


def _check(alert: PopulationAlert, now) -> None:
    if not alert.sector_id and not alert.polygon:
        raise ValidationError({"area": ["Choisissez la zone : un secteur ou un polygone."]})
    if alert.expires <= now:
        raise ValidationError({"expires": ["La fin de validité doit être dans le futur."]})
    try:
        cap.check(to_cap(alert, identifier="brouillon", sent=now))
    except cap.CapError as exc:
        raise ValidationError({"__all__": [str(exc)]}) from None


def _record(alert: PopulationAlert, type: str, by, **extra):
    journal.record(type=type, subject=alert, actor=by, payload={
        "population_alert": alert.pk, "identifier": alert.identifier, "msg_type": alert.msg_type,
        "status": alert.status, "headline": alert.headline, "severity": alert.severity,
        "area": alert.area_name, "references": alert.references_id,
        "incident": alert.incident_id,
        "incident_reference": alert.incident.reference if alert.incident_id else None,
        "drafted_by_name": (alert.created_by.get_full_name() or alert.created_by.get_username())
        if alert.created_by_id else None,
        **extra,
    })


# --- writes ----------------------------------------------------------------------------------
@transaction.atomic
def population_alert_draft(*, by, references: PopulationAlert | None = None,
                           msg_type: str = PopulationAlert.MsgType.ALERT, **fields
                           ) -> PopulationAlert:
    """A draft, checked as the CAP message it will become; issuing is a supervisor's act."""
    require(by, "devices.add_populationalert",
            "Vous n'avez pas le droit de rédiger une alerte à la population.")
    unknown = set(fields) - set(FIELDS) - {"cap_status"}
    if unknown:
        raise ValidationError({"__all__": [f"Champs inconnus : {', '.join(sorted(unknown))}."]})
    now = timezone.now()
    alert = PopulationAlert(msg_type=msg_type, references=references, created_at=now,
                            created_by=None if isinstance(by, str) else by, **fields)
    if alert.incident_id and alert.incident.exercise_id:
        alert.exercise_id = alert.incident.exercise_id
    elif references is not None:
        alert.exercise_id = references.exercise_id
    if not alert.sector_id and not alert.polygon:
        raise ValidationError({"area": ["Choisissez la zone : un secteur ou un polygone."]})
    if not alert.area_name and alert.sector_id:
        alert.area_name = f"Dijon — {alert.sector.name}"
    if alert.polygon:
        _check_polygon(alert.polygon)
    if alert.step_id and (alert.step.kind != "population_alert"
                          or alert.step.run.incident_id != alert.incident_id):
        raise ValidationError({"step": ["Cette étape n'est pas l'alerte à la population de "
                                        "l'incident."]})
    alert.full_clean(exclude=["identifier", "references", "created_by", "issued_by", "step"])
    _check(alert, now)
    alert.save()
    _record(alert, "population_alert.drafted", by)
    step = alert.step
    if step is not None and step.status == step.Status.PENDING and step.run.status == "active":
        # The step's action is the draft; issuing it is a supervisor's act, shown in the report.
        procedure_services.step_complete(
            step=step, by=by, note=f"Alerte rédigée : {alert.headline}",
            evidence={"action": "population_alert_drafted", "population_alert": alert.pk,
                      "headline": alert.headline, "severity": alert.severity,
                      "area": alert.area_name})
    return alert


def _check_polygon(points) -> None:
    try:
        ring = [(float(lat), float(lon)) for lat, lon in points]
    except (TypeError, ValueError):
        raise ValidationError(
            {"polygon": ["Le polygone doit être une liste de [lat, lon]."]}) from None
    if len(ring) < 4 or ring[0] != ring[-1] or not Polygon([(x, y) for y, x in ring]).is_valid:
        raise ValidationError({"polygon": ["Le polygone doit être fermé (4 points au moins, le "
                                           "dernier égal au premier) et ne pas se croiser."]})


@transaction.atomic
def population_alert_issue(*, alert: PopulationAlert, by) -> PopulationAlert:
    """Publish the message (CAP, feed), command the area's panels and sirens, notify."""
    require(by, "devices.issue_populationalert",
            "Seul un superviseur peut diffuser une alerte à la population.")
    alert = PopulationAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != PopulationAlert.Status.DRAFT:
        raise StateConflict("Ce message a déjà été diffusé.")
    now = timezone.now()
    _check(alert, now)
    alert.identifier = f"{settings.CAP_IDENTIFIER_PREFIX}-{now:%Y}-{alert.pk:06d}"
    alert.status = PopulationAlert.Status.ISSUED
    alert.sent = now.replace(microsecond=0)
    alert.issued_by = None if isinstance(by, str) else by
    try:  # one last check (and signature) of the exact message that is published
        cap_xml(alert)
    except cap.CapError as exc:
        raise ValidationError({"__all__": [str(exc)]}) from None
    alert.save()
    if alert.cap_status == PopulationAlert.CapStatus.TEST:
        # A test of the chain: published and notified, but no panel, no siren, no step.
        _record(alert, "population_alert.issued", by, commands=[], test=True,
                url=reverse("cap-message", args=[alert.identifier]))
        transaction.on_commit(lambda: _notify_later(alert.pk))
        return alert
    if alert.exercise_id:
        # An exercise's alert goes nowhere: no feed, no panel, no siren, no notification.
        _record(alert, "population_alert.issued", by, commands=[], exercise=alert.exercise_id)
        step = alert.step
        if step is not None and step.status == step.Status.PENDING \
                and step.run.status == "active":
            procedure_services.step_complete(
                step=step, by=by, note=f"Alerte d'exercice diffusée (fictive) : {alert.headline}",
                evidence=_issued_evidence(alert))
        return alert
    commands = _broadcast(alert, by)
    _record(alert, "population_alert.issued", by, commands=commands,
            url=reverse("cap-message", args=[alert.identifier]))
    step = alert.step
    if step is not None and step.status == step.Status.PENDING and step.run.status == "active":
        procedure_services.step_complete(
            step=step, by=by, note=f"Alerte diffusée : {alert.identifier} — {alert.headline}",
            evidence=_issued_evidence(alert))
    transaction.on_commit(lambda: _notify_later(alert.pk))
    return alert


def _issued_evidence(alert: PopulationAlert) -> dict:
    return {"action": "population_alert_issued", "population_alert": alert.pk,
            "identifier": alert.identifier, "headline": alert.headline,
            "severity": alert.severity, "area": alert.area_name}


def population_alert_follow_up(*, original: PopulationAlert, by, msg_type: str,
                               **changes) -> PopulationAlert:
    """A draft Update (with the changed fields) or Cancel of the latest issued message."""
    if original.status != PopulationAlert.Status.ISSUED:
        raise ValidationError({"__all__": ["Seul un message diffusé peut être mis à jour ou "
                                           "annulé."]})
    latest = original
    while True:
        after = latest.followups.filter(status=PopulationAlert.Status.ISSUED).first()
        if after is None:
            break
        latest = after
    if latest.msg_type == PopulationAlert.MsgType.CANCEL:
        raise ValidationError({"__all__": ["Cette alerte a déjà été annulée."]})
    fields = {name: getattr(latest, name) for name in FIELDS
              if name not in ("sector", "incident", "step")}
    fields.update(sector=latest.sector, incident=latest.incident)
    if msg_type == PopulationAlert.MsgType.CANCEL:
        # A cancellation says the danger is over, not the alert's urgency and instructions.
        chain, message = [], latest
        while message is not None:
            chain.append(message)
            message = message.references
        fields.update(
            # Valid as long as the longest-lived message it cancels (an Update may be shorter).
            expires=max(m.expires for m in chain),
            siren_pattern="", headline=f"Fin d'alerte : {latest.headline}"[:140],
            urgency="Past", severity="Minor", certainty="Observed", response_type="AllClear",
            description=f"L'alerte « {latest.headline} » est levée.",
            instruction=CANCEL_INSTRUCTION)
    fields.update(changes)
    return population_alert_draft(by=by, references=latest, msg_type=msg_type,
                                  cap_status=original.cap_status, **fields)


TEST_MESSAGE = {
    "event": "Test de la chaîne d'alerte",
    "category": "Other",
    "urgency": "Unknown",
    "severity": "Unknown",
    "certainty": "Unknown",
    "response_type": "None",
    "headline": "Message de test : aucune action n'est requise",
    "description": "Ce message vérifie la diffusion des alertes à la population. Il ne "
                   "signale aucun danger.",
    "instruction": "Aucune action n'est requise.",
}


@transaction.atomic
def population_alert_test(*, by, sector=None, hours: float = 1) -> PopulationAlert:
    """Draft and issue a ``status=Test`` message over ``sector`` (default: the whole city), for
    the periodic end-to-end test of the chain (feed of test messages, recipients, hubs)."""
    require(by, "devices.issue_populationalert",
            "Seul un superviseur peut diffuser un message de test.")
    area = {"sector": sector}
    if sector is None:
        ring = _city_ring()
        if ring is None:
            raise ValidationError({"area": ["Aucune commune configurée : choisissez un secteur."]})
        area = {"polygon": ring, "area_name": "Ensemble de la commune"}
    alert = population_alert_draft(
        by=by, cap_status=PopulationAlert.CapStatus.TEST,
        expires=timezone.now() + timedelta(hours=hours), **TEST_MESSAGE, **area)
    return population_alert_issue(alert=alert, by=by)


def _city_ring() -> list[list[float]] | None:
    city = zones.city_current()
    if city is None:
        return None
    geometry = shape(city.boundary)
    polygon = max(getattr(geometry, "geoms", [geometry]), key=lambda p: p.area)
    return [[lat, lon] for lon, lat in polygon.exterior.coords]


# --- broadcast -------------------------------------------------------------------------------
def _devices_in_area(alert: PopulationAlert, kind: str) -> list[Device]:
    devices = Device.objects.filter(kind=kind, active=True)
    if alert.polygon:
        area = Polygon([(lon, lat) for lat, lon in alert.polygon])
        return [d for d in devices if area.contains(Point(d.lon, d.lat))]
    return list(devices.filter(sector=alert.sector))


def panel_lines(headline: str) -> list[str]:
    return textwrap.wrap(headline.upper(), PANEL_CHARS)[:PANEL_LINES] or ["ALERTE"]


def _broadcast(alert: PopulationAlert, by) -> list[int]:
    """Commands to the panels (and sirens) of the area; sirens keep the two-person rule."""
    cancel = alert.msg_type == PopulationAlert.MsgType.CANCEL
    requester = alert.created_by or by
    commands = []
    for panel in _devices_in_area(alert, "message_panel"):
        params = {} if cancel else {"lines": panel_lines(alert.headline),
                                    "duration_s": 3600}
        commands.append(command_services.command_request(
            device=panel, action="clear" if cancel else "show", params=params, by=requester,
            incident=alert.incident))
    if alert.siren_pattern or cancel:
        for siren in _devices_in_area(alert, "siren"):
            command = command_services.command_request(
                device=siren, action="stop" if cancel else "sound",
                params={} if cancel else {"pattern": alert.siren_pattern},
                by=requester, incident=alert.incident,
                reason=f"Alerte à la population : {alert.headline}"[:300])
            if command.critical and getattr(requester, "pk", None) != getattr(by, "pk", None):
                # The drafter asked for the sirens, the supervisor issuing approves: two persons.
                command_services.command_approve(command=command, by=by)
            commands.append(command)
    return [command.pk for command in commands]


def _notify_later(alert_id: int) -> None:
    from devices import tasks

    tasks.notify_population_alert.delay(alert_id)


def population_alert_notify(*, alert_id: int, base_url: str = "") -> dict:
    """Send the "télé-alerte" to every active recipient: e-mail and/or webhook."""
    alert = PopulationAlert.objects.get(pk=alert_id)
    if alert.exercise_id:
        return {"email": 0, "webhook": 0, "failed": [], "exercise": True}
    url = (base_url or settings.PUBLIC_BASE_URL).rstrip("/") + reverse(
        "cap-message", args=[alert.identifier])
    results = {"email": 0, "webhook": 0, "failed": []}
    test = alert.cap_status == PopulationAlert.CapStatus.TEST
    body = (f"{alert.headline}\n\n{alert.description}\n\nConsignes : {alert.instruction}\n\n"
            f"Zone : {alert.area_name}\nMessage CAP : {url}")
    subject = f"[{alert.get_msg_type_display()}] {alert.headline}"
    if test:
        subject = f"[TEST] {subject}"
    for recipient in AlertRecipient.objects.filter(active=True):
        try:
            if recipient.email:
                send_mail(subject=subject,
                          message=body, from_email=None, recipient_list=[recipient.email])
                results["email"] += 1
            if recipient.webhook_url:
                data = json.dumps({"identifier": alert.identifier, "msgType": alert.msg_type,
                                   "status": alert.cap_status,
                                   "headline": alert.headline, "severity": alert.severity,
                                   "area": alert.area_name, "cap_url": url}).encode()
                request = urllib.request.Request(
                    recipient.webhook_url, data=data, method="POST",
                    headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10):
                    pass
                results["webhook"] += 1
        except Exception as exc:  # one failing recipient must not stop the others
            logger.warning("Population alert %s to %s failed: %s", alert.pk, recipient, exc)
            results["failed"].append(recipient.name)
    _record(alert, "population_alert.notified", "system:population-alerts", **results)
    return results
