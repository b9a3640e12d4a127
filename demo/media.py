"""The demo's generated media (sound recordings, video clips), written once per version.

Drawing them takes tens of seconds, and they depend only on their generator: each set is kept
under ``VAR_DIR/demo-cache/<kind>-<version>/``, where the version is a hash of the generator's
parameters and of the source of the code that draws them (whole modules, or single functions
where the rest of their module does not change the files). A second ``load_demo`` (another
database, the test suite) reuses the files; a change to the generator writes a new set.
Files are written under a name of their own, then renamed into place.
"""

import hashlib
import inspect
import os
from pathlib import Path

from django.conf import settings

CACHE = "demo-cache"


def version(*, code: list, parameters) -> str:
    """A short hash of the source of ``code`` (modules, functions) and of ``parameters``
    (their ``repr``)."""
    digest = hashlib.sha256()
    for item in code:
        digest.update(inspect.getsource(item).encode())
    digest.update(repr(parameters).encode())
    return digest.hexdigest()[:16]


def directory(kind: str, *, code: list, parameters) -> Path:
    """The folder of one version of the ``kind`` media (created)."""
    folder = Path(settings.VAR_DIR) / CACHE / f"{kind}-{version(code=code, parameters=parameters)}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def partial(path: Path) -> Path:
    """Where to write ``path`` before renaming it into place: a name of this process's own,
    so two loads at once never write into the same file."""
    return path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")


def present(path: Path) -> bool:
    """Whether a complete file is there (files are written aside, then renamed into place)."""
    return path.is_file() and path.stat().st_size > 0
