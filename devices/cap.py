"""OASIS CAP 1.2 population-alert messages and an Atom feed of them.

Pure Python (standard library only, no Django): the control room builds the dataclasses below,
``check`` refuses anything a CAP 1.2 consumer would reject, and ``to_xml`` writes the message in
the exact element order the CAP 1.2 schema (``urn:oasis:names:tc:emergency:cap:1.2``) demands.

Points are (latitude, longitude) in WGS 84 degrees, as CAP wants them (not GeoJSON's lon, lat);
circle radii are in kilometres. Every datetime must be timezone-aware: CAP date-times carry a
numeric UTC offset (``2026-11-23T14:05:09+01:00``), never ``Z`` and never fractional seconds.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME_TYPE = "application/cap+xml"

MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

# Message types that act on earlier messages, named in <references>.
REFERENCING_MSG_TYPES = ("Update", "Cancel", "Ack", "Error")

# xs:language (RFC 3066 shape), e.g. "fr-FR".
_LANGUAGE_RE = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*\Z")
# CAP 1.2: identifier and sender "MUST NOT include spaces, commas or restricted characters
# (< and &)".
_FORBIDDEN_IN_ID_RE = re.compile(r"[\s,<&]")
# Characters XML 1.0 cannot carry at all, even escaped.
_NON_XML_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# xs:dateTime time zones are limited to +/-14:00.
_MAX_OFFSET = timedelta(hours=14)


class CapError(ValueError):
    """A CAP message that must not be published; the text is meant for the operator (French)."""


@dataclass
class CapArea:
    description: str
    # Each polygon is a closed ring of (lat, lon) points: at least 4, first == last.
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    # (lat, lon, radius_km)
    circles: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class CapInfo:
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    description: str
    instruction: str
    areas: list[CapArea]
    category: list[str] = field(default_factory=lambda: ["Safety"])
    language: str = "fr-FR"
    expires: datetime | None = None
    sender_name: str = ""
    web: str = ""
    contact: str = ""


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: datetime
    msg_type: str = "Alert"
    status: str = "Actual"
    scope: str = "Public"
    # (sender, identifier, sent) of each earlier message this one updates, cancels, acknowledges.
    references: list[tuple[str, str, datetime]] = field(default_factory=list)
    info: list[CapInfo] = field(default_factory=list)
    note: str = ""
    # CAP requires <restriction> when scope is "Restricted" and <addresses> when it is "Private".
    restriction: str = ""
    addresses: str = ""


# --- Time -------------------------------------------------------------------------------------


def cap_time(dt: datetime) -> str:
    """CAP 1.2 date-time: seconds precision and a numeric offset (``+00:00`` for UTC, never ``Z``).

    Also a valid RFC 3339 date-time, used as such in the Atom feed.
    """
    if not isinstance(dt, datetime):
        raise CapError(f"Date invalide : {dt!r} n'est pas une date et heure.")
    offset = dt.utcoffset()
    if offset is None:
        raise CapError(
            f"Date sans fuseau horaire : {dt.isoformat()} (une date CAP doit porter son décalage "
            "UTC, par exemple +01:00)."
        )
    if offset.microseconds or offset.seconds % 60:
        raise CapError(f"Décalage UTC non représentable en heures et minutes : {offset}.")
    if abs(offset) > _MAX_OFFSET:
        raise CapError(f"Décalage UTC hors limites (au plus ±14:00) : {offset}.")
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
        f"T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    )


# --- Validation -------------------------------------------------------------------------------


def _check_choice(value: str, allowed: tuple[str, ...], label: str) -> None:
    if value not in allowed:
        raise CapError(
            f"Valeur « {value} » invalide pour {label} : valeurs admises {', '.join(allowed)}."
        )


def _check_token(value: str, label: str) -> None:
    if not isinstance(value, str) or not value:
        raise CapError(f"{label} manquant.")
    if _FORBIDDEN_IN_ID_RE.search(value):
        raise CapError(
            f"{label} « {value} » invalide : ni espace, ni virgule, ni caractère « < » ou « & »."
        )


def _check_text(value: str, label: str) -> None:
    if not isinstance(value, str):
        raise CapError(f"{label} doit être un texte.")
    if _NON_XML_CHAR_RE.search(value):
        raise CapError(f"{label} contient un caractère de contrôle interdit en XML.")


def _check_aware(dt: datetime, label: str) -> None:
    if not isinstance(dt, datetime):
        raise CapError(f"{label} : {dt!r} n'est pas une date et heure.")
    if dt.utcoffset() is None:
        raise CapError(f"{label} sans fuseau horaire (date « naïve ») : {dt.isoformat()}.")
    cap_time(dt)  # offset representable in CAP


def _check_number(value: float, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CapError(f"{label} invalide : {value!r}.")
    return float(value)


def _check_point(point, label: str) -> tuple[float, float]:
    try:
        lat, lon = point
    except (TypeError, ValueError):
        raise CapError(
            f"{label} : point {point!r} invalide, attendu (latitude, longitude).") from None
    lat = _check_number(lat, f"{label} : latitude")
    lon = _check_number(lon, f"{label} : longitude")
    if not -90 <= lat <= 90:
        raise CapError(f"{label} : latitude {lat} hors de [-90, 90].")
    if not -180 <= lon <= 180:
        raise CapError(f"{label} : longitude {lon} hors de [-180, 180].")
    return lat, lon


def _check_area(area: CapArea, label: str) -> None:
    _check_text(area.description, f"{label} : description")
    if not area.description.strip():
        raise CapError(f"{label} : description de la zone manquante.")
    for p, polygon in enumerate(area.polygons, start=1):
        plabel = f"{label}, polygone {p}"
        points = list(polygon)
        if len(points) < 4:
            raise CapError(
                f"{plabel} : {len(points)} points, il en faut au moins 4 "
                "(le premier répété à la fin)."
            )
        checked = [_check_point(point, plabel) for point in points]
        if checked[0] != checked[-1]:
            raise CapError(f"{plabel} non fermé : le dernier point doit être égal au premier.")
    for c, circle in enumerate(area.circles, start=1):
        clabel = f"{label}, cercle {c}"
        try:
            lat, lon, radius = circle
        except (TypeError, ValueError):
            raise CapError(
                f"{clabel} : {circle!r} invalide, attendu (latitude, longitude, rayon).") from None
        _check_point((lat, lon), clabel)
        radius = _check_number(radius, f"{clabel} : rayon")
        if radius < 0:
            raise CapError(f"{clabel} : rayon négatif ({radius} km).")


def _check_info(info: CapInfo, sent: datetime, label: str) -> None:
    if not isinstance(info.language, str) or not _LANGUAGE_RE.match(info.language):
        raise CapError(f"{label} : langue « {info.language} » invalide (par exemple fr-FR).")
    if not info.category:
        raise CapError(f"{label} : au moins une catégorie est requise.")
    for category in info.category:
        _check_choice(category, CATEGORIES, f"{label}, catégorie")
    _check_text(info.event, f"{label} : événement")
    if not info.event.strip():
        raise CapError(f"{label} : type d'événement manquant.")
    _check_choice(info.urgency, URGENCIES, f"{label}, urgence")
    _check_choice(info.severity, SEVERITIES, f"{label}, gravité")
    _check_choice(info.certainty, CERTAINTIES, f"{label}, certitude")
    if info.expires is not None:
        _check_aware(info.expires, f"{label} : fin de validité")
        if info.expires < sent:
            raise CapError(
                f"{label} : fin de validité ({cap_time(info.expires)}) antérieure à l'envoi "
                f"({cap_time(sent)})."
            )
    for name, text in (
        ("nom de l'émetteur", info.sender_name),
        ("titre", info.headline),
        ("description", info.description),
        ("consigne", info.instruction),
        ("contact", info.contact),
        ("adresse web", info.web),
    ):
        _check_text(text, f"{label} : {name}")
    if re.search(r"\s", info.web):
        raise CapError(f"{label} : adresse web « {info.web} » invalide (espace).")
    for a, area in enumerate(info.areas, start=1):
        _check_area(area, f"{label}, zone {a}")


def check(message: CapMessage) -> None:
    """Raise CapError (French text) if the message is not a publishable CAP 1.2 alert."""
    _check_token(message.identifier, "Identifiant du message")
    _check_token(message.sender, "Émetteur")
    _check_aware(message.sent, "Date d'envoi")
    _check_choice(message.msg_type, MSG_TYPES, "le type de message")
    _check_choice(message.status, STATUSES, "le statut")
    _check_choice(message.scope, SCOPES, "la portée")
    for name, text in (
        ("note", message.note),
        ("restriction", message.restriction),
        ("destinataires", message.addresses),
    ):
        _check_text(text, name.capitalize())
    if message.scope == "Restricted" and not message.restriction.strip():
        raise CapError("Portée « Restricted » : la règle de diffusion (restriction) est requise.")
    if message.scope == "Private" and not message.addresses.strip():
        raise CapError("Portée « Private » : la liste des destinataires (addresses) est requise.")
    if message.msg_type in REFERENCING_MSG_TYPES and not message.references:
        raise CapError(
            f"Un message « {message.msg_type} » doit citer le ou les messages qu'il concerne "
            "(références)."
        )
    for r, reference in enumerate(message.references, start=1):
        try:
            ref_sender, ref_identifier, ref_sent = reference
        except (TypeError, ValueError):
            raise CapError(
                f"Référence {r} invalide : attendu (émetteur, identifiant, date d'envoi)."
            ) from None
        _check_token(ref_sender, f"Référence {r} : émetteur")
        _check_token(ref_identifier, f"Référence {r} : identifiant")
        _check_aware(ref_sent, f"Référence {r} : date d'envoi")
    for i, info in enumerate(message.info, start=1):
        _check_info(info, message.sent, f"Bloc d'information {i}")


# --- XML --------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """Plain decimal (never exponent notation), up to 6 decimals (about 0.1 m in latitude)."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _sub(parent: ET.Element, tag: str, text: str | None) -> ET.Element:
    # Unqualified tags under a root that declares the default namespace: ElementTree's
    # default_namespace option refuses unqualified attribute names (Atom's rel, href).
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _optional(parent: ET.Element, tag: str, text: str) -> None:
    if text:
        _sub(parent, tag, text)


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _info_element(parent: ET.Element, info: CapInfo) -> None:
    element = _sub(parent, "info", None)
    _sub(element, "language", info.language)
    for category in info.category:
        _sub(element, "category", category)
    _sub(element, "event", info.event)
    _sub(element, "urgency", info.urgency)
    _sub(element, "severity", info.severity)
    _sub(element, "certainty", info.certainty)
    if info.expires is not None:
        _sub(element, "expires", cap_time(info.expires))
    _optional(element, "senderName", info.sender_name)
    _optional(element, "headline", info.headline)
    _optional(element, "description", info.description)
    _optional(element, "instruction", info.instruction)
    _optional(element, "web", info.web)
    _optional(element, "contact", info.contact)
    for area in info.areas:
        area_element = _sub(element, "area", None)
        _sub(area_element, "areaDesc", area.description)
        for polygon in area.polygons:
            _sub(
                area_element,
                "polygon",
                " ".join(f"{_number(lat)},{_number(lon)}" for lat, lon in polygon),
            )
        for lat, lon, radius in area.circles:
            _sub(area_element, "circle", f"{_number(lat)},{_number(lon)} {_number(radius)}")


def to_xml(message: CapMessage) -> bytes:
    """The message as a CAP 1.2 UTF-8 XML document.

    Raises CapError, and produces nothing, if ``check`` refuses the message.
    """
    check(message)
    root = ET.Element("alert", xmlns=CAP_NS)
    _sub(root, "identifier", message.identifier)
    _sub(root, "sender", message.sender)
    _sub(root, "sent", cap_time(message.sent))
    _sub(root, "status", message.status)
    _sub(root, "msgType", message.msg_type)
    _sub(root, "scope", message.scope)
    _optional(root, "restriction", message.restriction)
    _optional(root, "addresses", message.addresses)
    _optional(root, "note", message.note)
    if message.references:
        _sub(
            root,
            "references",
            " ".join(
                f"{sender},{identifier},{cap_time(sent)}"
                for sender, identifier, sent in message.references
            ),
        )
    for info in message.info:
        _info_element(root, info)
    return _serialise(root)


# --- Atom feed --------------------------------------------------------------------------------


def atom_feed(
    *,
    title: str,
    feed_id: str,
    updated: datetime,
    self_url: str,
    entries: list[dict],
    author: str = "",
) -> bytes:
    """An Atom 1.0 feed of CAP messages, as published by alert hubs.

    Each entry is a dict with ``id``, ``title``, ``updated`` (aware datetime), ``summary`` and
    ``link`` (URL of the CAP XML document). ``author`` (Atom requires one) defaults to ``title``.
    """
    for name, text in (
        ("titre du flux", title),
        ("identifiant du flux", feed_id),
        ("adresse du flux", self_url),
    ):
        _check_text(text, f"Flux Atom : {name}")
        if not text:
            raise CapError(f"Flux Atom : {name} manquant.")
    _check_text(author, "Flux Atom : auteur")
    root = ET.Element("feed", xmlns=ATOM_NS)
    _sub(root, "id", feed_id)
    _sub(root, "title", title)
    _sub(root, "updated", cap_time(updated))
    ET.SubElement(root, "link", rel="self", href=self_url)
    _sub(ET.SubElement(root, "author"), "name", author or title)
    for n, entry in enumerate(entries, start=1):
        missing = [key for key in ("id", "title", "updated", "summary", "link") if key not in entry]
        if missing:
            raise CapError(f"Flux Atom, entrée {n} : champ(s) manquant(s) {', '.join(missing)}.")
        for key in ("id", "title", "summary", "link"):
            _check_text(entry[key], f"Flux Atom, entrée {n} : {key}")
        element = ET.SubElement(root, "entry")
        _sub(element, "id", entry["id"])
        _sub(element, "title", entry["title"])
        _sub(element, "updated", cap_time(entry["updated"]))
        _sub(element, "summary", entry["summary"])
        ET.SubElement(element, "link", rel="alternate", type=CAP_MIME_TYPE, href=entry["link"])
    return _serialise(root)
