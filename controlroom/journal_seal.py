"""What makes the journal's chain trustworthy to someone who can write to the database.

Two things live outside the database, under the var directory (never in the repository):

- the **key** of the chain: each event's hash is an HMAC-SHA256 of the previous hash and the
  event, so rewriting an event and hashing everything after it again takes the key;
- the **anchor**: the last checkpoint of the journal's head (sequence number and hash), signed
  with the same key and written periodically, so deleting the last events and moving the head
  back is noticed as long as a checkpoint covers them.
"""

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings


class SealError(RuntimeError):
    pass


@lru_cache(maxsize=4)
def _key_from_file(path: str) -> bytes:
    key_file = Path(path)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked in place, readable by its owner only:
        # two processes starting together never draw two keys nor read half of one.
        descriptor, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".journal-key-")
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_hex(32))
            os.link(temporary, key_file)
        except FileExistsError:
            pass
        finally:
            Path(temporary).unlink(missing_ok=True)
    text = key_file.read_text().strip()
    if len(text) < 32:
        raise SealError(f"The journal key in {key_file} is too short (32 characters at least).")
    return text.encode("utf-8")


def key() -> bytes:
    """The chain's key: the JOURNAL_KEY setting, else the file JOURNAL_KEY_FILE (created once)."""
    if settings.JOURNAL_KEY:
        return settings.JOURNAL_KEY.encode("utf-8")
    return _key_from_file(str(settings.JOURNAL_KEY_FILE))


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hmac.new(key(), prev_hash.encode("ascii") + canonical.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def legacy_hash(prev_hash: str, canonical: str) -> str:
    """The unkeyed SHA-256 of journals written before the chain had a key."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


# --- the anchor ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str


def _signature(seq: int, head_hash: str) -> str:
    return hmac.new(key(), f"journal-anchor:{seq}:{head_hash}".encode("ascii"),
                    hashlib.sha256).hexdigest()


def anchor_write(*, seq: int, head_hash: str) -> None:
    """Replace the anchor with this head, atomically; an anchor never moves back."""
    current = anchor_read()
    if current is not None and current.seq > seq:
        return
    path = Path(settings.JOURNAL_ANCHOR_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"seq": seq, "hash": head_hash, "signature": _signature(seq, head_hash)})
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".anchor-")
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def anchor_read() -> Anchor | None:
    """The last checkpoint, or None if none was written yet. A forged one raises SealError."""
    path = Path(settings.JOURNAL_ANCHOR_FILE)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        seq, head_hash, signature = int(data["seq"]), str(data["hash"]), str(data["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SealError(f"The journal anchor {path} is unreadable.") from exc
    if not hmac.compare_digest(signature, _signature(seq, head_hash)):
        raise SealError(f"The journal anchor {path} has a bad signature.")
    return Anchor(seq=seq, hash=head_hash)
