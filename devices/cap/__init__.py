"""OASIS CAP 1.2 population-alert messages and an Atom feed of them.

Pure Python (no Django; the standard library, and signxml for signatures): the control room
builds the dataclasses below, ``check`` refuses anything a CAP 1.2 consumer would reject, and
``to_xml`` writes the message in the exact element order the CAP 1.2 schema
(``urn:oasis:names:tc:emergency:cap:1.2``) demands; ``sign`` / ``verify`` add and check an
enveloped XML-DSig signature (signxml, on lxml).

Points are (latitude, longitude) in WGS 84 degrees, as CAP wants them (not GeoJSON's lon, lat);
circle radii are in kilometres. Every datetime must be timezone-aware: CAP date-times carry a
numeric UTC offset (``2026-11-23T14:05:09+01:00``; UTC is ``-00:00``), never ``Z`` and never
fractional seconds.
"""

from devices.cap.messages import (
    ATOM_NS,
    CAP_MIME_TYPE,
    CAP_NS,
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
from devices.cap.signing import sign, verify
from devices.cap.validation import check
from devices.cap.writing import atom_feed, to_xml

__all__ = [
    "ATOM_NS",
    "CAP_MIME_TYPE",
    "CAP_NS",
    "CATEGORIES",
    "CERTAINTIES",
    "CapArea",
    "CapError",
    "CapInfo",
    "CapMessage",
    "MSG_TYPES",
    "REFERENCING_MSG_TYPES",
    "RESPONSE_TYPES",
    "SCOPES",
    "SEVERITIES",
    "STATUSES",
    "URGENCIES",
    "atom_feed",
    "cap_time",
    "check",
    "sign",
    "to_xml",
    "verify",
]
