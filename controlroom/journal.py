"""The journal: an append-only, gap-free, hash-chained log of every meaningful change.

``record()`` appends an event inside the caller's transaction and publishes it to the consoles
once that transaction commits. Writers take the next sequence number under a row lock on the
single ``JournalHead`` row, held until commit, so sequence numbers are gap-free and events commit
in sequence order even with several processes writing at once.
"""

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from controlroom import events, journal_seal, live_publisher
from controlroom.models import Event, EventAgency, JournalHead

logger = logging.getLogger(__name__)

LIVE_GROUP = "journal"
GENESIS_HASH = "0" * 64
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class JournalError(ValueError):
    pass


UnregisteredEventType = events.UnregisteredEventType


# --- canonical form and hashing --------------------------------------------------------------
def _normalise(value):
    """JSON-compatible value whose canonical text survives a round trip through jsonb.

    PostgreSQL's jsonb rewrites numbers (1.0 → 1.0, 1e20 → 100000000000000000000), so an integral
    float is written as an integer; any other float keeps Python's shortest round-trip form.
    """
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise JournalError("The payload cannot contain NaN or infinite numbers.")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return value


def to_json_value(value):
    """Plain JSON data from a payload that may hold dates, decimals, UUIDs…"""
    return _normalise(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def canonical_text(fields: dict) -> str:
    return json.dumps(
        _normalise(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_fields(event: Event) -> dict:
    """What the hash covers: everything about the event but its own hash."""
    return {
        "seq": event.seq,
        "created_at": format_time(event.created_at),
        "type": event.type,
        "subject": [event.subject_app, event.subject_model, event.subject_id],
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "agencies": sorted(event.agencies),
        "payload": event.payload,
    }


def compute_hash(prev_hash: str, event: Event) -> str:
    """The event's link in the chain: an HMAC keyed with a secret kept outside the database
    (events up to JOURNAL_UNKEYED_THROUGH, written before the chain had a key: a SHA-256)."""
    canonical = canonical_text(event_fields(event))
    if event.seq <= settings.JOURNAL_UNKEYED_THROUGH:
        return journal_seal.legacy_hash(prev_hash, canonical)
    return journal_seal.chain_hash(prev_hash, canonical)


# --- writing ---------------------------------------------------------------------------------
def _subject_parts(subject) -> tuple[str, str, str]:
    if subject is None:
        return "", "", ""
    if isinstance(subject, models.Model):
        return subject._meta.app_label, subject._meta.model_name, str(subject.pk)
    app, model, pk = subject
    return str(app), str(model), str(pk)


def _actor_parts(actor) -> tuple[int | None, str]:
    """An actor is a user, or a string naming a system component (``system:celery``)."""
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor[:150]
    if getattr(actor, "is_authenticated", False):
        return actor.pk, actor.get_username()
    return None, "anonymous"


def _agency_ids(agencies: Iterable) -> list[int]:
    return sorted({a if isinstance(a, int) else a.pk for a in agencies or ()})


def record(
    *,
    type: str,
    subject=None,
    actor=None,
    agencies: Iterable = (),
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the journal in the current transaction; publish it after commit.

    ``subject`` is a model instance or an ``(app, model, id)`` tuple; ``actor`` a user or a
    string for a system component; ``agencies`` the partner agencies that may see the event
    (control-room staff always see it). ``type`` must be declared in the registry
    (``controlroom.events``) and the payload must carry the fields declared with it.
    """
    if not EVENT_TYPE.match(type or ""):
        raise JournalError(f"Invalid event type {type!r}: expected dotted lowercase words.")
    declared = events.get(type)  # UnregisteredEventType if nobody declared it
    payload = to_json_value(payload or {})
    if not isinstance(payload, dict):
        raise JournalError("The payload must be a JSON object.")
    missing = [name for name in declared.fields if name not in payload]
    if missing:
        raise JournalError(f"Event {type!r} lacks payload fields {', '.join(missing)} "
                           "(declared in its app's events module).")
    subject_app, subject_model, subject_id = _subject_parts(subject)
    actor_id, actor_label = _actor_parts(actor)
    agency_ids = _agency_ids(agencies)

    with transaction.atomic():
        head = _locked_head()
        event = Event(
            seq=head.seq + 1,
            created_at=timezone.now(),
            type=type,
            subject_app=subject_app,
            subject_model=subject_model,
            subject_id=subject_id,
            actor_id=actor_id,
            actor_label=actor_label,
            agencies=agency_ids,
            payload=payload,
            prev_hash=head.hash,
        )
        event.hash = compute_hash(head.hash, event)
        event.save(force_insert=True)
        if agency_ids:
            EventAgency.objects.bulk_create(
                EventAgency(event_id=event.seq, agency_id=agency_id) for agency_id in agency_ids
            )
        JournalHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
        transaction.on_commit(lambda: publish(event))
    return event


def _locked_head() -> JournalHead:
    try:
        return JournalHead.objects.select_for_update().get(pk=1)
    except JournalHead.DoesNotExist:
        # Only an empty database lacks the head (its migration creates it; a flush removes it).
        JournalHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
        return JournalHead.objects.select_for_update().get(pk=1)


def head_seq() -> int:
    return JournalHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


# --- publishing ------------------------------------------------------------------------------
def live_message(event: Event) -> dict:
    """The wire form of an event, for the WebSocket and the events API alike."""
    return {
        "seq": event.seq,
        "time": format_time(event.created_at),
        "type": event.type,
        "subject": {
            "app": event.subject_app,
            "model": event.subject_model,
            "id": event.subject_id,
        },
        "actor": event.actor_label,
        "agencies": list(event.agencies),
        "payload": event.payload,
    }


def encode(message: dict) -> str:
    """The compact JSON text a console receives."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def live_text(message: dict) -> str:
    return encode({"kind": "event", **message})


def live_entry(event: Event) -> tuple[int, list[int], str]:
    """What the live hub keeps of an event: its seq, its agencies and its encoded text."""
    message = live_message(event)
    return message["seq"], message["agencies"], live_text(message)


def publish(event: Event) -> None:
    """Fast path to the consoles. A failure here loses nothing: the live hubs read what no push
    brought from the journal."""
    try:
        message = live_message(event)
        # Encoded once here rather than once per console: the hubs forward the text as is, and
        # read only the seq and agencies beside it.
        live_publisher.send(LIVE_GROUP, {
            "type": "journal.event",
            "event": {"seq": message["seq"], "agencies": message["agencies"]},
            "text": live_text(message),
        })
    except Exception:  # noqa: BLE001 - the journal stays the source of truth
        logger.warning("Could not publish journal event %s", event.seq, exc_info=True)


# --- verification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str

    def __str__(self):
        return f"event #{self.seq}: {self.reason}"


def verify_chain(*, batch_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the whole chain; return (events checked, first problem or None).

    Beyond the links, the head must be where the chain ends, and the chain must reach the last
    anchor (written outside the database) with the very hash the anchor holds.
    """
    try:
        anchor = journal_seal.anchor_read()
    except journal_seal.SealError as exc:
        return 0, ChainProblem(0, str(exc))
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    last_seq = 0
    while True:
        batch = list(Event.objects.filter(seq__gte=expected_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return checked, ChainProblem(expected_seq, "missing (the sequence jumps to "
                                             f"#{event.seq})")
            if event.prev_hash != prev_hash:
                return checked, ChainProblem(event.seq, "its previous hash does not match the "
                                             "event before it")
            if compute_hash(prev_hash, event) != event.hash:
                return checked, ChainProblem(event.seq, "its content does not match its hash "
                                             "(altered)")
            if anchor is not None and event.seq == anchor.seq and event.hash != anchor.hash:
                return checked, ChainProblem(event.seq, "its hash differs from the anchor "
                                             "written outside the database (rewritten)")
            prev_hash, last_seq = event.hash, event.seq
            expected_seq += 1
            checked += 1
    head = JournalHead.objects.filter(pk=1).first() or JournalHead(seq=0, hash=GENESIS_HASH)
    if head.seq != last_seq or head.hash != prev_hash:
        return checked, ChainProblem(last_seq + 1, f"missing (the journal head is at #{head.seq})")
    if anchor is not None and last_seq < anchor.seq:
        return checked, ChainProblem(last_seq + 1, "missing (the anchor written outside the "
                                     f"database is at #{anchor.seq})")
    return checked, None


def anchor_head() -> journal_seal.Anchor:
    """Write the journal's current head as the anchor, outside the database; return it."""
    head = JournalHead.objects.filter(pk=1).first() or JournalHead(seq=0, hash=GENESIS_HASH)
    journal_seal.anchor_write(seq=head.seq, head_hash=head.hash)
    return journal_seal.Anchor(seq=head.seq, hash=head.hash)
