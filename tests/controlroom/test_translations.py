"""The English catalogue is complete and compiled: every French string has its translation."""

import gettext
import re

from tests.conftest import ROOT

PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(parts: list[str]) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), "".join(parts))


def entries():
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, list[str]] = {}
        current = None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = [match.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line[1:-1])
        if "msgid" in fields and _unquote(fields["msgid"]):
            yield _unquote(fields["msgid"]), fields, fuzzy


def test_every_string_is_translated_and_none_is_fuzzy():
    problems = []
    for msgid, fields, fuzzy in entries():
        translations = [v for k, v in fields.items() if k.startswith("msgstr")]
        if fuzzy or not all(_unquote(t) for t in translations):
            problems.append(msgid)
    assert problems == [], f"untranslated or fuzzy: {problems[:10]}"


def test_the_compiled_catalogue_matches_the_sources():
    catalogue = gettext.GNUTranslations(MO.open("rb"))
    stale = [
        msgid for msgid, fields, _fuzzy in entries()
        if "msgid_plural" not in fields and catalogue.gettext(msgid) != _unquote(fields["msgstr"])
    ]
    assert stale == [], f"run `make messages`: {stale[:10]}"
