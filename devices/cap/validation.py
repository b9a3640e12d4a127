"""CAP 1.2: refusing anything a CAP 1.2 consumer would reject (no Django)."""

from __future__ import annotations

import math
import re
from datetime import datetime

from devices.cap.messages import (
    _FORBIDDEN_IN_ID_RE,
    _LANGUAGE_RE,
    _NON_XML_CHAR_RE,
    CATEGORIES,
    CERTAINTIES,
    MSG_TYPES,
    REFERENCING_MSG_TYPES,
    RESPONSE_TYPES,
    SCOPES,
    SEVERITIES,
    STATUSES,
    URGENCIES,
    CapArea,
    CapError,
    CapInfo,
    CapMessage,
    cap_time,
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
    for response_type in info.response_type:
        _check_choice(response_type, RESPONSE_TYPES, f"{label}, type de réponse")
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
