"""CAP 1.2: the XML message, in the schema's element order, and the Atom feed (no Django)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from devices.cap.messages import (
    ATOM_NS,
    CAP_MIME_TYPE,
    CAP_NS,
    CapError,
    CapInfo,
    CapMessage,
    cap_time,
)
from devices.cap.validation import _check_text, check

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
    for response_type in info.response_type:
        _sub(element, "responseType", response_type)
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
