"""The demo's generated media (sound recordings, video clips), written once per version.

Drawing them takes tens of seconds, and they depend only on their generator: each set is kept
under ``VAR_DIR/demo-cache/<kind>-<version>/``, where the version is a hash of the generator's
parameters and of the source of the modules that draw them. A second ``load_demo`` (another
database, the test suite) reuses the files; a change to the generator writes a new set.
"""

import hashlib
from pathlib import Path
from types import ModuleType

from django.conf import settings

CACHE = "demo-cache"


def version(*, modules: list[ModuleType], parameters) -> str:
    """A short hash of the modules' source files and of ``parameters`` (their ``repr``)."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    digest.update(repr(parameters).encode())
    return digest.hexdigest()[:16]


def directory(kind: str, *, modules: list[ModuleType], parameters) -> Path:
    """The folder of one version of the ``kind`` media (created)."""
    folder = Path(settings.VAR_DIR) / CACHE / f"{kind}-{version(modules=modules, parameters=parameters)}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def present(path: Path) -> bool:
    """Whether a complete file is there (files are written aside, then renamed into place)."""
    return path.is_file() and path.stat().st_size > 0
