"""CAP 1.2 messages and their Atom feed, validated against the published OASIS schema.

No database: devices.cap is pure Python.
"""

import dataclasses
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import xmlschema

from devices.cap import (
    ATOM_NS,
    CAP_NS,
    CapArea,
    CapError,
    CapInfo,
    CapMessage,
    atom_feed,
    cap_time,
    check,
    to_xml,
)
from tests.conftest import CAP_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = CAP_SCHEMA
PARIS = ZoneInfo("Europe/Paris")
CAP = f"{{{CAP_NS}}}"
ATOM = f"{{{ATOM_NS}}}"

SENDER = "police.ville.example"
SENT = datetime(2026, 11, 23, 14, 5, 9, tzinfo=PARIS)  # winter: UTC+1
RING = [(48.85, 2.34), (48.86, 2.34), (48.86, 2.36), (48.85, 2.36), (48.85, 2.34)]
# A CAP date-time as the schema's pattern wants it: seconds, numeric offset, no "Z".
CAP_TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\Z")


@pytest.fixture(scope="module")
def schema():
    assert SCHEMA_PATH.is_file(), f"CAP 1.2 schema missing at {SCHEMA_PATH}"
    return xmlschema.XMLSchema(SCHEMA_PATH)


def make_info(**overrides) -> CapInfo:
    values = dict(
        event="Inondation",
        urgency="Immediate",
        severity="Severe",
        certainty="Observed",
        headline="Crue de la Seine : évacuation des quais",
        description="Montée rapide des eaux sur les quais bas.",
        instruction="Quittez les quais bas et gagnez les étages.",
        areas=[CapArea("Quais bas, 4e arrondissement", [list(RING)], [(48.853, 2.35, 1.5)])],
    )
    values.update(overrides)
    return CapInfo(**values)


def make_message(**overrides) -> CapMessage:
    values = dict(identifier="CR-2026-0001", sender=SENDER, sent=SENT, info=[make_info()])
    values.update(overrides)
    return CapMessage(**values)


def full_message() -> CapMessage:
    """Every optional field of the dataclasses set, several infos, areas and categories."""
    sent = datetime(2026, 11, 23, 15, 0, 0, tzinfo=PARIS)
    info = make_info(
        category=["Safety", "Met", "Infra"],
        language="fr-FR",
        expires=sent + timedelta(hours=6),
        sender_name="Centre de supervision urbaine",
        web="https://ville.example/alertes/CR-2026-0002",
        contact="Standard : 01 23 45 67 89",
        areas=[
            CapArea(
                "Quais bas",
                [list(RING), [(48.80, 2.30), (48.81, 2.30), (48.81, 2.31), (48.80, 2.30)]],
                [(48.853, 2.35, 1.5), (48.86, 2.35, 0.25)],
            ),
            CapArea("Île de la Cité", circles=[(48.855, 2.347, 0.8)]),
            CapArea("Tout le territoire communal"),
        ],
    )
    english = make_info(
        language="en-GB", event="Flood", headline="Seine flood", description="", instruction=""
    )
    return CapMessage(
        identifier="CR-2026-0002",
        sender=SENDER,
        sent=sent,
        msg_type="Update",
        status="Exercise",
        scope="Restricted",
        references=[(SENDER, "CR-2026-0001", SENT)],
        info=[info, english],
        note="Exercice annuel crue.",
        restriction="Services municipaux et partenaires seulement",
        addresses="",
    )


def assert_valid(schema, xml: bytes) -> None:
    schema.validate(io.BytesIO(xml))  # raises with the schema's reason, unlike is_valid
    assert schema.is_valid(io.BytesIO(xml))


def children(element) -> list[str]:
    return [child.tag.removeprefix(CAP) for child in element]


# --- The validator is live ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new",
    [
        ("+01:00</sent>", "Z</sent>"),  # xs:dateTime accepts Z, CAP's pattern does not
        ("14:05:09+01:00", "14:05:09.5+01:00"),  # no fractional seconds
        ("<status>Actual</status>", "<status>Real</status>"),
        ("<category>Safety</category>", "<category>Police</category>"),
        # order: msgType before status
        (
            "<status>Actual</status>\n  <msgType>Alert</msgType>",
            "<msgType>Alert</msgType>\n  <status>Actual</status>",
        ),
        ("<language>fr-FR</language>", "<language>fr_FR!</language>"),
        ("<areaDesc>Quais bas, 4e arrondissement</areaDesc>", ""),
        (f'xmlns="{CAP_NS}"', 'xmlns="urn:oasis:names:tc:emergency:cap:1.1"'),
    ],
)
def test_schema_rejects_hand_broken_documents(schema, old, new):
    xml = to_xml(make_message())
    assert_valid(schema, xml)
    broken = xml.replace(old.encode(), new.encode(), 1)
    assert broken != xml, "the substitution did not apply"
    assert not schema.is_valid(io.BytesIO(broken))


# --- Messages -----------------------------------------------------------------------------------


def test_alert_with_polygon_and_circle_validates(schema):
    xml = to_xml(make_message())
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert_valid(schema, xml)
    root = ET.fromstring(xml)
    assert root.tag == f"{CAP}alert"
    assert root.findtext(f"{CAP}identifier") == "CR-2026-0001"
    assert root.findtext(f"{CAP}msgType") == "Alert"
    assert root.find(f"{CAP}references") is None
    (info,) = root.findall(f"{CAP}info")
    assert info.findtext(f"{CAP}language") == "fr-FR"
    assert [c.text for c in info.findall(f"{CAP}category")] == ["Safety"]
    area = info.find(f"{CAP}area")
    assert area.findtext(f"{CAP}polygon") == (
        "48.85,2.34 48.86,2.34 48.86,2.36 48.85,2.36 48.85,2.34"
    )
    assert area.findtext(f"{CAP}circle") == "48.853,2.35 1.5"


def test_text_is_escaped_and_utf8(schema):
    xml = to_xml(make_message(info=[make_info(description="Niveau < 7 m & en hausse — évitez")]))
    assert_valid(schema, xml)
    assert "évitez".encode() in xml
    info = ET.fromstring(xml).find(f"{CAP}info")
    assert info.findtext(f"{CAP}description") == "Niveau < 7 m & en hausse — évitez"


@pytest.mark.parametrize("msg_type", ["Update", "Cancel"])
def test_update_and_cancel_reference_the_original(schema, msg_type):
    original = make_message()
    follow_up = make_message(
        identifier="CR-2026-0001-2",
        sent=SENT + timedelta(minutes=30),
        msg_type=msg_type,
        references=[(original.sender, original.identifier, original.sent)],
        info=[make_info(urgency="Past" if msg_type == "Cancel" else "Immediate")],
    )
    xml = to_xml(follow_up)
    assert_valid(schema, xml)
    root = ET.fromstring(xml)
    assert root.findtext(f"{CAP}msgType") == msg_type
    assert (
        root.findtext(f"{CAP}references")
        == "police.ville.example,CR-2026-0001,2026-11-23T14:05:09+01:00"
    )


def test_several_references_are_space_separated(schema):
    summer = datetime(2026, 7, 1, 8, 0, 0, tzinfo=PARIS)
    message = make_message(
        msg_type="Cancel",
        references=[(SENDER, "CR-1", SENT), ("meteo.example", "M-9", summer)],
    )
    xml = to_xml(message)
    assert_valid(schema, xml)
    assert ET.fromstring(xml).findtext(f"{CAP}references") == (
        "police.ville.example,CR-1,2026-11-23T14:05:09+01:00 "
        "meteo.example,M-9,2026-07-01T08:00:00+02:00"
    )


def test_message_without_info_validates(schema):
    assert_valid(schema, to_xml(make_message(info=[])))


# --- Times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dt, expected",
    [
        (datetime(2026, 11, 23, 14, 5, 9, 987654, tzinfo=PARIS), "2026-11-23T14:05:09+01:00"),
        (datetime(2026, 7, 14, 22, 0, 0, tzinfo=PARIS), "2026-07-14T22:00:00+02:00"),
        (datetime(2026, 11, 23, 13, 5, 9, tzinfo=UTC), "2026-11-23T13:05:09-00:00"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("UTC")), "2026-01-02T03:04:05-00:00"),
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=3, minutes=30))),
            "2026-01-02T03:04:05-03:30",
        ),
        (datetime(987, 1, 2, 3, 4, 5, tzinfo=UTC), "0987-01-02T03:04:05-00:00"),
    ],
)
def test_cap_time(dt, expected):
    assert cap_time(dt) == expected
    assert CAP_TIME_RE.match(cap_time(dt))


@pytest.mark.parametrize(
    "dt",
    [
        datetime(2026, 11, 23, 14, 5, 9),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(minutes=9, seconds=21))),
        "2026-11-23T14:05:09+01:00",
    ],
)
def test_cap_time_refuses(dt):
    with pytest.raises(CapError):
        cap_time(dt)


def test_winter_paris_times_carry_plus_one_and_never_z(schema):
    message = full_message()
    xml = to_xml(message)
    assert_valid(schema, xml)
    root = ET.fromstring(xml)
    times = [root.findtext(f"{CAP}sent")] + [e.text for e in root.iter(f"{CAP}expires")]
    assert times == ["2026-11-23T15:00:00+01:00", "2026-11-23T21:00:00+01:00"]
    times += root.findtext(f"{CAP}references").split(",")[2:]
    for text in times:
        assert text.endswith("+01:00") and "Z" not in text, text
    assert b"Z<" not in xml


def test_utc_time_gives_minus_zero_as_cap_requires(schema):
    xml = to_xml(make_message(sent=datetime(2026, 11, 23, 13, 5, 9, tzinfo=UTC)))
    assert_valid(schema, xml)
    assert ET.fromstring(xml).findtext(f"{CAP}sent") == "2026-11-23T13:05:09-00:00"


# --- Element order ------------------------------------------------------------------------------


def test_every_optional_field_set_validates_in_schema_order(schema):
    xml = to_xml(full_message())
    assert_valid(schema, xml)
    root = ET.fromstring(xml)
    assert children(root) == [
        "identifier",
        "sender",
        "sent",
        "status",
        "msgType",
        "scope",
        "restriction",
        "note",
        "references",
        "info",
        "info",
    ]
    first, second = root.findall(f"{CAP}info")
    assert children(first) == [
        "language",
        "category",
        "category",
        "category",
        "event",
        "urgency",
        "severity",
        "certainty",
        "expires",
        "senderName",
        "headline",
        "description",
        "instruction",
        "web",
        "contact",
        "area",
        "area",
        "area",
    ]
    areas = first.findall(f"{CAP}area")
    assert children(areas[0]) == ["areaDesc", "polygon", "polygon", "circle", "circle"]
    assert children(areas[1]) == ["areaDesc", "circle"]
    assert children(areas[2]) == ["areaDesc"]
    # Empty optional texts are left out, not written as empty elements.
    assert children(second) == [
        "language",
        "category",
        "event",
        "urgency",
        "severity",
        "certainty",
        "headline",
        "area",
    ]


def test_private_scope_writes_addresses(schema):
    xml = to_xml(make_message(scope="Private", addresses="cos-prefecture mairie-astreinte"))
    assert_valid(schema, xml)
    assert children(ET.fromstring(xml))[5:8] == ["scope", "addresses", "info"]


# --- Refusals -----------------------------------------------------------------------------------


def with_info(**changes):
    return lambda m: dataclasses.replace(m, info=[dataclasses.replace(m.info[0], **changes)])


def with_area(**changes):
    def change(m):
        info = m.info[0]
        area = dataclasses.replace(info.areas[0], **changes)
        return dataclasses.replace(m, info=[dataclasses.replace(info, areas=[area])])

    return change


def replace(**changes):
    return lambda m: dataclasses.replace(m, **changes)


NAIVE = datetime(2026, 11, 23, 14, 5, 9)

REFUSALS = {
    "msg_type": (replace(msg_type="Alerte"), "type de message"),
    "status": (replace(status="Real"), "statut"),
    "scope": (replace(scope="Everyone"), "portée"),
    "category": (with_info(category=["Safety", "Police"]), "catégorie"),
    "no category": (with_info(category=[]), "catégorie"),
    "urgency": (with_info(urgency="Now"), "urgence"),
    "severity": (with_info(severity="High"), "gravité"),
    "certainty": (with_info(certainty="Sure"), "certitude"),
    "language": (with_info(language="français"), "langue"),
    "empty event": (with_info(event=" "), "événement"),
    "empty identifier": (replace(identifier=""), "Identifiant"),
    "identifier with space": (replace(identifier="CR 2026"), "Identifiant"),
    "identifier with comma": (replace(identifier="CR,2026"), "Identifiant"),
    "identifier with <": (replace(identifier="CR<2026"), "Identifiant"),
    "identifier with &": (replace(identifier="CR&2026"), "Identifiant"),
    "sender with space": (replace(sender="police ville"), "Émetteur"),
    "sender with comma": (replace(sender="police,ville"), "Émetteur"),
    "sender with <": (replace(sender="<police>"), "Émetteur"),
    "sender with &": (replace(sender="police&ville"), "Émetteur"),
    "reference identifier with comma": (
        replace(msg_type="Update", references=[(SENDER, "CR,1", SENT)]),
        "identifiant",
    ),
    "polygon of 3 points": (
        with_area(polygons=[[(48.85, 2.34), (48.86, 2.34), (48.85, 2.34)]]),
        "au moins 4",
    ),
    "polygon not closed": (with_area(polygons=[RING[:-1] + [(48.851, 2.34)]]), "non fermé"),
    "latitude out of range": (
        with_area(polygons=[[(91, 2), (48, 2), (48, 3), (91, 2)]]),
        "latitude",
    ),
    "negative radius": (with_area(circles=[(48.85, 2.35, -1)]), "rayon"),
    "nan in circle": (with_area(circles=[(float("nan"), 2.35, 1)]), "latitude"),
    "empty area description": (with_area(description=""), "description"),
    "update without references": (replace(msg_type="Update"), "références"),
    "cancel without references": (replace(msg_type="Cancel"), "références"),
    "expires before sent": (with_info(expires=SENT - timedelta(seconds=1)), "antérieure"),
    "naive sent": (replace(sent=NAIVE), "fuseau"),
    "naive expires": (with_info(expires=NAIVE + timedelta(hours=1)), "fuseau"),
    "naive reference": (
        replace(msg_type="Cancel", references=[(SENDER, "CR-1", NAIVE)]),
        "fuseau",
    ),
    "restricted without restriction": (replace(scope="Restricted"), "restriction"),
    "private without addresses": (replace(scope="Private"), "addresses"),
    "control character": (with_info(headline="Crue\x0b"), "caractère de contrôle"),
}


def test_good_message_passes_check():
    assert check(make_message()) is None
    assert check(full_message()) is None


@pytest.mark.parametrize("change, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_check_refuses(change, reason):
    message = change(make_message())
    with pytest.raises(CapError, match=reason):
        check(message)
    output = None
    with pytest.raises(CapError, match=reason):
        output = to_xml(message)
    assert output is None


def test_expires_equal_to_sent_is_accepted(schema):
    assert_valid(schema, to_xml(make_message(info=[make_info(expires=SENT)])))


def test_cap_error_is_a_value_error():
    assert issubclass(CapError, ValueError)


def test_dataclass_defaults_are_not_shared():
    a, b = CapArea("a"), CapArea("b")
    a.polygons.append(list(RING))
    assert b.polygons == [] and b.circles == []
    first, second = make_info(), make_info()
    first.category.append("Met")
    assert second.category == ["Safety"]
    m1, m2 = CapMessage("a", SENDER, SENT), CapMessage("b", SENDER, SENT)
    m1.references.append((SENDER, "x", SENT))
    m1.info.append(make_info())
    assert m2.references == [] and m2.info == []


def test_module_does_not_import_django():
    code = "import sys, devices.cap; assert 'django' not in sys.modules, 'django imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


# --- Atom feed ----------------------------------------------------------------------------------


def make_feed(messages) -> bytes:
    return atom_feed(
        title="Alertes à la population — Ville exemple",
        feed_id="https://ville.example/cap/",
        updated=SENT + timedelta(hours=1),
        self_url="https://ville.example/cap/feed.atom",
        entries=[
            {
                "id": f"https://ville.example/cap/{m.identifier}.xml",
                "title": m.info[0].headline,
                "updated": m.sent,
                "summary": m.info[0].description,
                "link": f"https://ville.example/cap/{m.identifier}.xml",
            }
            for m in messages
        ],
    )


def test_atom_feed_lists_each_message():
    messages = [make_message(), full_message()]
    xml = make_feed(messages)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(xml)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "https://ville.example/cap/"
    assert root.findtext(f"{ATOM}updated") == "2026-11-23T15:05:09+01:00"
    assert root.find(f"{ATOM}author/{ATOM}name").text
    (self_link,) = root.findall(f"{ATOM}link")
    assert self_link.attrib == {"rel": "self", "href": "https://ville.example/cap/feed.atom"}
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(messages)
    for entry, message in zip(entries, messages, strict=True):
        assert entry.findtext(f"{ATOM}id").endswith(f"/{message.identifier}.xml")
        assert entry.findtext(f"{ATOM}title") == message.info[0].headline
        assert entry.findtext(f"{ATOM}updated") == cap_time(message.sent)
        assert entry.findtext(f"{ATOM}summary") == message.info[0].description
        (link,) = entry.findall(f"{ATOM}link")
        assert link.get("rel") == "alternate"
        assert link.get("type") == "application/cap+xml"
        assert link.get("href") == f"https://ville.example/cap/{message.identifier}.xml"
    # Nothing outside the Atom namespace.
    assert all(element.tag.startswith(ATOM) for element in root.iter())


def test_empty_atom_feed():
    root = ET.fromstring(make_feed([]))
    assert root.tag == f"{ATOM}feed"
    assert root.findall(f"{ATOM}entry") == []


def test_atom_feed_refuses_naive_times_and_missing_fields():
    with pytest.raises(CapError):
        make_feed([make_message(sent=NAIVE)])
    with pytest.raises(CapError, match="link"):
        atom_feed(
            title="t",
            feed_id="urn:x",
            updated=SENT,
            self_url="https://ville.example/f",
            entries=[{"id": "urn:y", "title": "t", "updated": SENT, "summary": "s"}],
        )


# --- responseType -------------------------------------------------------------------------------


def test_response_types_follow_the_event_in_the_schema_order(schema):
    xml = to_xml(make_message(info=[make_info(response_type=["Shelter", "Monitor"])]))

    assert_valid(schema, xml)
    names = [child.tag.removeprefix(CAP) for child in ET.fromstring(xml).find(f"{CAP}info")]
    assert names[names.index("event") + 1:names.index("urgency")] == ["responseType"] * 2


def test_an_unknown_response_type_is_refused():
    with pytest.raises(CapError, match="type de réponse"):
        to_xml(make_message(info=[make_info(response_type=["RunAway"])]))
