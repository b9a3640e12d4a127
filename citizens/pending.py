"""Photos kept between two tries of the report form.

When a report is refused for another field, the photos that passed their checks are kept here,
already cleaned (re-encoded without any metadata), so the citizen does not have to attach them
again. The form carries a signed token naming them; they are forgotten after ``MAX_AGE`` seconds,
and removed as soon as the report is taken.
"""

import re
import secrets
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core import signing

SALT = "citizens.pending-photos"
MAX_AGE = 60 * 60
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _root() -> Path:
    return Path(settings.CITIZEN_PENDING_ROOT)


def _sweep(root: Path) -> None:
    """Forget the photos of forms nobody came back to."""
    if not root.is_dir():
        return
    limit = time.time() - MAX_AGE
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def stash(photos: list[tuple[str, bytes]]) -> str:
    """Keep cleaned photos (display name, JPEG bytes); returns the token the form carries."""
    root = _root()
    _sweep(root)
    ident = secrets.token_urlsafe(18)
    folder = root / ident
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for number, (name, content) in enumerate(photos):
        (folder / f"{number}.jpg").write_bytes(content)
        names.append(Path(name or f"photo-{number + 1}.jpg").name[:80])
    return signing.dumps({"id": ident, "names": names}, salt=SALT, compress=True)


def _open(token: str) -> tuple[Path, list[str]] | None:
    if not token:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    ident = str(data.get("id", ""))
    if not _ID.match(ident):
        return None
    folder = _root() / ident
    return (folder, list(data.get("names", []))) if folder.is_dir() else None


def names(token: str) -> list[str]:
    opened = _open(token)
    return opened[1] if opened else []


def load(token: str) -> list[tuple[str, bytes]]:
    """The kept photos of a token, or nothing when it is unknown, altered or too old."""
    opened = _open(token)
    if opened is None:
        return []
    folder, kept = opened
    photos = []
    for number, name in enumerate(kept):
        path = folder / f"{number}.jpg"
        if path.is_file():
            photos.append((name, path.read_bytes()))
    return photos


def discard(token: str) -> None:
    opened = _open(token)
    if opened is not None:
        shutil.rmtree(opened[0], ignore_errors=True)
