"""Every label shown to a person is a word from the catalogue, in French and in English: the
main pages (console, after-action report, observatory, citizen form) and the API's label fields
are scanned for raw codes (snake_case identifiers, true/false, status codes, step keys)."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from citizens.catalogue import services_ensure_defaults
from demo.procedures import load_demo_procedures
from incidents.models import Incident, StepRun
from incidents.services import incidents as incident_services
from incidents.services import procedures as procedure_services
from incidents.services import units as unit_services
from observatory.models import Fact
from observatory.services import rollup_days
from tests.incidents.conftest import REPUBLIQUE, make_unit  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

SNAKE = re.compile(r"(?<![\w/.:#=-])[a-z]+(?:_[a-z0-9]+)+(?![\w/.(-])")
BOOLEAN = re.compile(r"(?<![\w-])(true|false)(?![\w-])")
STATUS_CHANGE = re.compile(r"\b(new|acknowledged|dispatched|on_scene|resolved|closed|"
                           r"cancelled)\s*→")
FRENCH_ONLY_CODES = re.compile(r"(?<![\w-])(acknowledged|dispatched|on_scene|en_route|"
                               r"pending|skipped)(?![\w-])")


class _Text(HTMLParser):
    """What a person reads: text outside scripts and styles, and the attributes read aloud."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def raw_codes(text: str, *, language: str, keys=()) -> list[str]:
    found = SNAKE.findall(text) + BOOLEAN.findall(text)
    if language != "fr":
        # In English some labels are the codes' words ("new → acknowledged"), and step keys
        # are often English words ("cameras"): those are looked for in French.
        return found
    found += [m.group(0) for m in STATUS_CHANGE.finditer(text)]
    found += FRENCH_ONLY_CODES.findall(text)
    found += [key for key in keys if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text)]
    return found


@pytest.fixture
def night(city, categories, people, agencies, make_unit):
    """An incident with its procedure followed, units engaged, facts for the observatory and the
    citizens' catalogue."""
    services_ensure_defaults()
    load_demo_procedures()
    unit = make_unit("PN-BAC-21", agency="pn")
    incident = incident_services.incident_create(
        by=people["supervisor"], category=categories["incendie"], title="Feu de poubelles",
        lat=REPUBLIQUE[0], lon=REPUBLIQUE[1], priority=1)
    incident_services.incident_transition(incident=incident, to="acknowledged",
                                          by=people["supervisor"])
    run = procedure_services.run_start(incident=incident, by=people["supervisor"]) \
        or incident.procedure_runs.get()
    steps = {step.key: step for step in run.steps.all()}
    procedure_services.step_complete(step=steps["codis"], by=people["supervisor"])
    procedure_services.step_answer(step=StepRun.objects.get(pk=steps["victimes"].pk),
                                   answer=True, by=people["supervisor"])
    unit_services.unit_assign(incident=incident, unit=unit, by=people["supervisor"])
    now = timezone.now()
    facts = Fact.objects.bulk_create([
        Fact.of(time=now - timedelta(hours=n), h3="881f8a8d01fffff", category=category,
                source=source, origin=f"words:{n}")
        for n, (category, source) in enumerate([("nuisance_sonore", "alert"),
                                                ("depot_sauvage", "citizen_report"),
                                                ("depassement_sonore", "sensor")])])
    rollup_days({fact.local_day for fact in facts})
    keys = [key for key, step in steps.items()
            if key not in " ".join(s.instruction for s in steps.values()).lower()]
    return incident, keys


def pages(client, incident):
    return {
        "console": "/console/",
        "report": f"/incidents/{incident.pk}/compte-rendu/",
        "observatory": "/observatoire/",
        "citizen form": "/signaler/depot-sauvage/",
        "citizen start": "/signaler/",
        "missing page": "/nulle-part/",
    }


@pytest.mark.parametrize("language", ["fr", "en"])
def test_pages_show_words_not_codes(client, night, people, language):
    incident, keys = night
    client.cookies["django_language"] = language
    client.force_login(people["supervisor"])
    for name, url in pages(client, incident).items():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code in (200, 404), (name, response.status_code)
        text = visible(response.content.decode())
        assert raw_codes(text, language=language, keys=keys) == [], (name, language)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_report_timeline_reads_as_words(client, night, people, language):
    incident, _keys = night
    client.cookies["django_language"] = language
    client.force_login(people["supervisor"])
    text = visible(client.get(f"/incidents/{incident.pk}/compte-rendu/",
                              HTTP_ACCEPT_LANGUAGE=language).content.decode())

    if language == "fr":
        assert "nouveau → pris en compte" in text
        assert "Prévenir immédiatement le CODIS 21" in text
        assert "Changement d'état" in text or "Changement d&#x27;état" in text
    else:
        assert "State change" in text or "Status change" in text
    assert "PN-BAC-21" in text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_api_label_fields_are_words(client, night, people, language):
    incident, _keys = night
    client.force_login(people["supervisor"])
    client.cookies["django_language"] = language
    incidents = client.get("/api/incidents/", HTTP_ACCEPT_LANGUAGE=language).json()
    rows = incidents["results"] if isinstance(incidents, dict) else incidents
    labels = [value for row in rows for key, value in row.items()
              if key.endswith("_label") and isinstance(value, str)]
    figures = client.get("/observatoire/chiffres.json", HTTP_ACCEPT_LANGUAGE=language).json()
    labels += [row["label"] for row in figures["categories"]]
    labels += [row["shift"] for row in figures["response_times"]]

    assert labels
    assert [label for label in labels if raw_codes(label, language=language)] == []
    if language == "en":
        assert "Fire" in labels and "Noise nuisance" in labels
    else:
        assert "Incendie" in labels and "Nuisance sonore" in labels
    assert Incident.objects.filter(pk=incident.pk).exists()
