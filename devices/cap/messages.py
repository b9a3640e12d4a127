"""CAP 1.2: the vocabulary, the message dataclasses and CAP date-times (no Django)."""

from __future__ import annotations

import re
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
# What the public is told to do (<responseType>).
RESPONSE_TYPES = (
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
)

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
    response_type: list[str] = field(default_factory=list)
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
    """CAP 1.2 date-time: seconds precision and a numeric offset, never ``Z``.

    UTC is written ``-00:00``, as CAP 1.2 (section 3.3.2) requires. Also a valid RFC 3339
    date-time, used as such in the Atom feed.
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
    sign = "-" if offset <= timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
        f"T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    )
