"""The registry of journal event types: every type recorded anywhere is declared once, with its
label and how replay takes it, and ``record()`` refuses what nobody declared."""

import ast
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.utils import translation

from controlroom import events, journal
from controlroom.admin import JournaledAdmin
from controlroom.models import Event

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("controlroom", "console", "incidents", "devices", "video", "citizens", "observatory",
        "demo")
# The pages and scripts that read events by their type.
READERS = ("static", "console/static")
TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _type_expressions(call: ast.Call):
    """What a ``record(...)``-like call passes as the event type: its ``type`` keyword and its
    positional arguments (payload dicts aside)."""
    for keyword in call.keywords:
        if keyword.arg == "type":
            yield keyword.value
    for arg in call.args:
        if not isinstance(arg, ast.Dict):
            yield arg


def recorded_types() -> tuple[set[str], set[str]]:
    """Event-type literals and f-string patterns passed to every journal-recording call."""
    literals, patterns = set(), set()
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            name = _call_name(call)
            if name != "record" and not name.endswith("_record"):
                continue
            for expression in _type_expressions(call):
                for node in ast.walk(expression):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                            and TYPE.match(node.value):
                        literals.add(node.value)
                    elif isinstance(node, ast.JoinedStr):
                        parts = [re.escape(part.value) if isinstance(part, ast.Constant)
                                 else "[a-z0-9_]+" for part in node.values]
                        pattern = "".join(parts)
                        if "\\." in pattern:
                            patterns.add(pattern)
    return literals, patterns


def test_every_type_recorded_anywhere_is_declared():
    registered = events.registered()
    literals, patterns = recorded_types()
    assert len(literals) > 60, "the scan finds the recording calls"
    assert sorted(literals - set(registered)) == []
    for pattern in patterns:
        assert any(re.fullmatch(pattern, type) for type in registered), pattern


def test_every_type_the_readers_name_is_declared():
    """Replay, reports and the consoles' scripts name no type that is not declared."""
    registered = events.registered()
    families = {type.split(".")[0] for type in registered} - {"video", "observatory"}
    files = [ROOT / "incidents" / "replay.py", ROOT / "incidents" / "reports.py",
             *(path for folder in READERS if (ROOT / folder).is_dir()
               for path in (ROOT / folder).rglob("*.js") if "vendor" not in path.parts)]
    named = set()
    for path in files:
        for word in re.findall(r"[\"']([a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*)[\"']",
                               path.read_text(encoding="utf-8")):
            if TYPE.match(word) and word.split(".")[0] in families:
                named.add(word)
    assert named, "the readers name event types"
    assert sorted(named - set(registered)) == []


def test_objects_the_administration_journals_have_their_types():
    """The admin's saves and deletions record ``<model>.created|changed|deleted``."""
    journaled = [model for model, model_admin in admin.site._registry.items()
                 if isinstance(model_admin, JournaledAdmin)]
    assert len(journaled) > 8
    for model in journaled:
        for action in ("created", "changed", "deleted"):
            events.get(f"{model._meta.model_name}.{action}")


def test_every_type_has_a_label_in_both_languages_and_says_how_replay_takes_it():
    registered = events.registered()
    for type, entry in registered.items():
        assert entry.replay is events.NOT_REPLAYED or callable(entry.replay), type
        with translation.override("fr"):
            assert str(entry.label).strip(), type
    replayed = {type for type, entry in registered.items() if entry.replayed}
    assert {"alert.received", "incident.created", "unit.position", "device.state",
            "camera.online", "screen.routed", "exercise.purged"} <= replayed
    assert not registered["crisis.opened"].replayed
    with translation.override("fr"):
        assert events.label("incident.created") == "Incident créé"
    assert events.label("no.such_type") == "no.such_type"


@pytest.mark.django_db
def test_recording_an_undeclared_type_is_refused_and_writes_nothing():
    before = journal.head_seq()
    with pytest.raises(events.UnregisteredEventType, match="not declared"):
        journal.record(type="alert.teleported", payload={"alert": 1})
    with pytest.raises(journal.JournalError, match="lacks payload fields"):
        journal.record(type="unit.position", payload={"unit": 1})
    assert journal.head_seq() == before
    assert not Event.objects.filter(type="alert.teleported").exists()
    journal.record(type="user.role_granted", payload={"role": "operator"})
    assert journal.head_seq() == before + 1


def test_a_type_is_declared_by_one_app_only():
    with pytest.raises(ValueError, match="already declared by 'incidents'"):
        events.register("incident.created", app="video", label="x",
                        replay=events.NOT_REPLAYED)
    with pytest.raises(TypeError):
        events.register("incident.created", app="incidents", label="x", replay="yes")
    assert events.get("incident.created").app == "incidents"
