"""Procedure templates as YAML: round trip, all-or-nothing import, demo set, commands, admin."""

import io

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from controlroom.models import Event
from demo.procedures import DEMO_PROCEDURES, load_demo_procedures
from incidents.admin import procedures as procedures_admin  # noqa: F401 - registers the admin
from incidents.models import ProcedureRun, ProcedureTemplate, StepTemplate
from incidents.models.procedures import StepKind
from incidents.procedure_yaml import branch_problems, templates_to_yaml
from incidents.services.procedure_templates import templates_import
from incidents.services.procedures import run_start
from incidents.taxonomy import TAXONOMY
from tests.incidents.procedure_setup import (  # noqa: F401 - fixtures
    events,
    incident_for,
    staff_fixture,
    taxonomy_fixture,
    two_sectors_fixture,
)

SYSTEM = "system:import"

VALID = """
- code: incendie
  name: Incendie — feu léger
  description: "Feu de poubelle.\\nDeuxième ligne."
  category: incendie
  min_priority: null
  sector: null
  active: true
  steps:
  - key: codis
    kind: notify_agency
    instruction: "Prévenir le CODIS (18) : adresse, accès"
    mandatory: true
    deadline: 60
    params: {agency_kind: fire}
  - key: victimes
    kind: question
    instruction: Des victimes ?
    mandatory: true
    deadline: null
    params: {}
    next_if_yes: null
    next_if_no: constat
  - key: ambulance
    kind: dispatch
    instruction: Engager une ambulance
    mandatory: true
    deadline: 300
    params: {unit_kind: ambulance}
  - key: feux
    kind: device_command
    instruction: Feux à l'orange clignotant
    mandatory: false
    deadline: null
    params: {device_kind: traffic_signal, command: set_plan, params: {plan: flashing_amber}, junction: [12, 13]}
    next_if_yes: null
    next_if_no: null
  - key: constat
    kind: note
    instruction: Consigner les constatations
    mandatory: true
    deadline: null
    params: {}
- code: incendie-centre
  name: Incendie en centre-ville
  description: ''
  category: incendie
  min_priority: 3
  sector: centre-ville
  active: false
  steps:
  - key: cameras
    kind: show_cameras
    instruction: Caméras
    mandatory: false
    deadline: 30
    params: {count: 4}
"""


def snapshot() -> tuple:
    """Everything an import may write: templates, steps and journal."""
    return (
        sorted(ProcedureTemplate.objects.values_list(
            "code", "name", "description", "category__code", "min_priority", "sector__code",
            "active")),
        sorted(StepTemplate.objects.values_list(
            "template__code", "key", "order", "kind", "instruction", "mandatory",
            "deadline_seconds", "next_if_yes", "next_if_no")),
        Event.objects.count(),
    )


def exported() -> str:
    return templates_to_yaml(ProcedureTemplate.objects.order_by("code"))


# --- round trip and upsert --------------------------------------------------------------------
@pytest.mark.django_db
def test_export_then_import_is_lossless(taxonomy, two_sectors):
    imported = templates_import(text=VALID, by=SYSTEM)
    assert [t.code for t in imported] == ["incendie", "incendie-centre"]
    first = exported()
    data = yaml.safe_load(first)
    assert data[0]["steps"][3]["params"]["junction"] == [12, 13]
    assert data[1]["sector"] == "centre-ville" and data[1]["active"] is False
    assert data[0]["description"] == "Feu de poubelle.\nDeuxième ligne."
    assert "Prévenir le CODIS (18) : adresse, accès" in first  # readable French, not escapes
    before = snapshot()[:2]
    ProcedureTemplate.objects.all().delete()
    templates_import(text=first, by=SYSTEM)
    assert exported() == first
    assert snapshot()[:2] == before


@pytest.mark.django_db
def test_import_replaces_a_template_but_not_the_runs_it_started(taxonomy, two_sectors):
    templates_import(text=VALID, by=SYSTEM)
    run = run_start(incident=incident_for(taxonomy["incendie"], priority=2), by=SYSTEM)
    data = yaml.safe_load(VALID)
    data[0]["name"] = "Incendie — version 2"
    data[0]["steps"] = [{"key": "alerte", "kind": "population_alert",
                         "instruction": "Alerter la population", "params": {"template": "fumees"}}]
    imported = templates_import(text=yaml.safe_dump(data, allow_unicode=True), by=SYSTEM)
    template = ProcedureTemplate.objects.get(code="incendie")
    assert template.pk == imported[0].pk and template.name == "Incendie — version 2"
    assert list(template.steps.values_list("key", "order", "mandatory", "deadline_seconds")) == [
        ("alerte", 1, True, None)]
    assert ProcedureTemplate.objects.count() == 2
    assert list(run.steps.order_by("order").values_list("key", flat=True)) == [
        "codis", "victimes", "ambulance", "feux", "constat"]
    assert ProcedureRun.objects.get(pk=run.pk).template_id == template.pk
    journaled = events("procedure_template.imported", subject_id=str(template.pk))
    assert [e.payload["created"] for e in journaled] == [True, False]
    assert journaled[-1].actor_label == SYSTEM
    assert journaled[-1].payload["template"]["steps"][0]["key"] == "alerte"


@pytest.mark.django_db
def test_import_needs_the_template_permissions(taxonomy, two_sectors, staff):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        templates_import(text=VALID, by=staff["operator"])
    assert snapshot() == before
    templates_import(text=VALID, by=staff["administrator"])
    assert events("procedure_template.imported")[0].actor_id == staff["administrator"].pk


# --- rejections: a clear message, and nothing written -----------------------------------------
def mutate(change):
    data = yaml.safe_load(VALID)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def step_of(data, key):
    return next(s for s in data[0]["steps"] if s["key"] == key)


REJECTED = {
    "unknown category": (
        mutate(lambda d: d[0].update(category="volcan")), ["incendie", "volcan"]),
    "unknown sector": (
        mutate(lambda d: d[1].update(sector="atlantide")), ["incendie-centre", "atlantide"]),
    "unknown step kind": (
        mutate(lambda d: step_of(d, "feux").update(kind="teleport")),
        ["incendie", "étape 4 « feux »", "teleport"]),
    "duplicate step key": (
        mutate(lambda d: step_of(d, "feux").update(key="codis")),
        ["incendie", "étape 4 « codis »", "clé"]),
    "branch to a missing step": (
        mutate(lambda d: step_of(d, "victimes").update(next_if_no="nulle-part")),
        ["incendie", "étape 2 « victimes »", "nulle-part", "n'existe pas"]),
    "branch to an earlier step": (
        mutate(lambda d: step_of(d, "victimes").update(next_if_yes="codis")),
        ["incendie", "étape 2 « victimes »", "codis", "après la question"]),
    "branch to itself": (
        mutate(lambda d: step_of(d, "victimes").update(next_if_yes="victimes")),
        ["étape 2 « victimes »", "après la question"]),
    "branch from a non-question": (
        mutate(lambda d: step_of(d, "ambulance").update(next_if_yes="constat")),
        ["incendie", "étape 3 « ambulance »", "seule une question"]),
    "reserved key": (
        mutate(lambda d: step_of(d, "constat").update(key="end")),
        ["étape 5 « end »", "réservée"]),
    "unknown unit kind": (
        mutate(lambda d: step_of(d, "ambulance").update(params={"unit_kind": "helicopter"})),
        ["étape 3 « ambulance »", "helicopter"]),
    "agency missing": (
        mutate(lambda d: step_of(d, "codis").update(params={})), ["étape 1 « codis »", "agency"]),
    "unknown field": (
        mutate(lambda d: step_of(d, "codis").update(mandatroy=False)),
        ["étape 1 « codis »", "mandatroy"]),
    "bad priority": (
        mutate(lambda d: d[1].update(min_priority=7)), ["incendie-centre", "min_priority"]),
    "bad deadline": (
        mutate(lambda d: step_of(d, "codis").update(deadline="vite")), ["codis", "deadline"]),
    "empty instruction": (
        mutate(lambda d: step_of(d, "codis").update(instruction="")), ["codis", "instruction"]),
    "no steps": (mutate(lambda d: d[1].update(steps=[])), ["incendie-centre", "étapes"]),
    "duplicate template code": (
        mutate(lambda d: d[1].update(code="incendie")), ["incendie", "deux fois"]),
    "bad YAML": (VALID.replace("  - key: feux", "  - key: [feux"), ["YAML", "ligne"]),
    "not a list": ("code: incendie\n", ["liste"]),
    "empty file": ("", ["liste"]),
    "too large": (VALID + "#" * (1024 * 1024), ["1 Mo"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", REJECTED)
def test_a_bad_file_is_refused_whole_with_a_clear_message(taxonomy, two_sectors, case):
    templates_import(text=mutate(lambda d: d[0].update(name="Avant")), by=SYSTEM)
    text, expected = REJECTED[case]
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        templates_import(text=text, by=SYSTEM)
    message = " | ".join(refused.value.messages)
    for part in expected:
        assert part in message, message
    assert snapshot() == before


@pytest.mark.django_db
def test_every_problem_is_reported_at_once(taxonomy, two_sectors):
    def break_twice(data):
        data[0]["category"] = "volcan"
        step_of(data, "victimes")["next_if_no"] = "nulle-part"

    with pytest.raises(ValidationError) as refused:
        templates_import(text=mutate(break_twice), by=SYSTEM)
    assert len(refused.value.messages) == 2


# --- the demo set -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_demo_procedures_import_cleanly(taxonomy):
    created = load_demo_procedures()
    codes = {t.code for t in created}
    categories = {t.category.code for t in created}
    assert {"incendie", "rassemblement", "objet_abandonne", "nuisance_sonore",
            "accident_circulation", "personne_au_sol", "intrusion"} <= categories
    assert categories <= {code for code, *_ in TAXONOMY}
    steps = StepTemplate.objects.all()
    assert {s.kind for s in steps} == set(StepKind.values)
    assert all(5 <= t.steps.count() <= 12 for t in created)
    assert steps.filter(deadline_seconds__isnull=False).exists()
    for template in created:
        rows = list(template.steps.order_by("order").values(
            "key", "kind", "next_if_yes", "next_if_no"))
        assert branch_problems(rows) == [], template.code
    questions = steps.filter(kind="question")
    assert questions.exclude(next_if_yes="", next_if_no="").count() == questions.count()
    # Loading again changes nothing and journals nothing.
    before = snapshot()
    assert load_demo_procedures() == []
    assert snapshot() == before
    assert len(codes) == len(created) >= 7


@pytest.mark.django_db
def test_the_demo_file_round_trips(taxonomy):
    load_demo_procedures()
    text = exported()
    ProcedureTemplate.objects.all().delete()
    templates_import(text=text, by=SYSTEM)
    assert exported() == text
    assert len(yaml.safe_load(DEMO_PROCEDURES.read_text(encoding="utf-8"))) == len(
        yaml.safe_load(text))


# --- management commands ----------------------------------------------------------------------
@pytest.mark.django_db
def test_the_commands_export_and_import(taxonomy, two_sectors, tmp_path):
    source = tmp_path / "in.yaml"
    source.write_text(VALID, encoding="utf-8")
    out = io.StringIO()
    call_command("import_procedures", str(source), stdout=out)
    assert "incendie-centre" in out.getvalue() and "2 template(s)" in out.getvalue()
    assert events("procedure_template.imported")[0].actor_label == SYSTEM

    out = io.StringIO()
    call_command("export_procedures", "incendie", stdout=out)
    assert [t["code"] for t in yaml.safe_load(out.getvalue())] == ["incendie"]
    target = tmp_path / "out.yaml"
    call_command("export_procedures", "--output", str(target), stderr=io.StringIO())
    assert target.read_text(encoding="utf-8") == exported()
    with pytest.raises(CommandError):
        call_command("export_procedures", "inconnu", stdout=io.StringIO())


@pytest.mark.django_db
def test_the_import_command_fails_with_the_reason(taxonomy, two_sectors, tmp_path):
    source = tmp_path / "bad.yaml"
    source.write_text(mutate(lambda d: d[0].update(category="volcan")), encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        call_command("import_procedures", str(source), stdout=io.StringIO())
    assert "volcan" in str(failed.value)
    assert not ProcedureTemplate.objects.exists()


# --- admin ------------------------------------------------------------------------------------
IMPORT_URL = "/admin/incidents/proceduretemplate/import/"
CHANGELIST_URL = "/admin/incidents/proceduretemplate/"


def upload(text: str, name="procedures.yaml"):
    return {"file": SimpleUploadedFile(name, text.encode("utf-8"), "application/yaml")}


@pytest.mark.django_db
def test_an_administrator_imports_a_file_in_the_admin(api, staff, taxonomy, two_sectors):
    client = api(staff["administrator"])
    page = client.get(CHANGELIST_URL)
    assert page.status_code == 200 and IMPORT_URL in page.content.decode()
    form = client.get(IMPORT_URL)
    assert form.status_code == 200 and "Fichier YAML" in form.content.decode()
    assert "csrfmiddlewaretoken" in form.content.decode()
    response = client.post(IMPORT_URL, upload(VALID))
    assert response.status_code == 302 and response["Location"] == CHANGELIST_URL
    assert ProcedureTemplate.objects.count() == 2
    assert events("procedure_template.imported")[0].actor_id == staff["administrator"].pk


@pytest.mark.django_db
def test_admin_import_errors_are_shown_on_the_form(api, staff, taxonomy, two_sectors):
    client = api(staff["administrator"])
    before = snapshot()
    bad = mutate(lambda d: step_of(d, "victimes").update(next_if_no="nulle-part"))
    response = client.post(IMPORT_URL, upload(bad))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Aucun modèle n'a été importé" in page and "nulle-part" in page
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile("p.yaml", b"\xff\xfe\x00")})
    assert "UTF-8" in response.content.decode()
    assert snapshot() == before


@pytest.mark.django_db
def test_the_admin_import_is_for_administrators_only(api, staff):
    response = api(staff["operator"]).get(IMPORT_URL)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_the_admin_exports_the_selected_templates(api, staff, taxonomy, two_sectors):
    templates_import(text=VALID, by=SYSTEM)
    chosen = ProcedureTemplate.objects.get(code="incendie-centre")
    response = api(staff["administrator"]).post(
        CHANGELIST_URL, {"action": "export_yaml", "_selected_action": [chosen.pk]})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="procedures.yaml"'
    assert [t["code"] for t in yaml.safe_load(response.content.decode())] == ["incendie-centre"]


def step_rows(rows):
    data = {"steps-TOTAL_FORMS": str(len(rows)), "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000"}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"steps-{index}-{name}"] = value
    return data


@pytest.mark.django_db
def test_templates_edited_in_the_admin_are_checked_and_journaled(api, staff, taxonomy):
    client = api(staff["administrator"])
    template = {"code": "rixe", "name": "Rixe", "description": "",
                "category": taxonomy["rixe"].pk, "min_priority": "", "sector": "", "active": "on"}
    question = {"order": "1", "key": "blesses", "kind": "question", "instruction": "Blessés ?",
                "mandatory": "on", "params": "{}", "next_if_yes": "", "next_if_no": "avant"}
    note = {"order": "2", "key": "constat", "kind": "note", "instruction": "Consigner",
            "mandatory": "on", "params": "{}", "next_if_yes": "", "next_if_no": ""}
    url = "/admin/incidents/proceduretemplate/add/"
    response = client.post(url, template | step_rows([question, note]))
    assert response.status_code == 200 and "avant" in response.content.decode()
    assert not ProcedureTemplate.objects.exists()

    response = client.post(url, template | step_rows([question | {"next_if_no": "end"}, note]))
    assert response.status_code == 302, response.content.decode()[:3000]
    created = ProcedureTemplate.objects.get(code="rixe")
    assert list(created.steps.values_list("key", flat=True)) == ["blesses", "constat"]
    [event] = events("procedure_template.created")
    assert event.actor_id == staff["administrator"].pk
    assert [s["key"] for s in event.payload["template"]["steps"]] == ["blesses", "constat"]

    response = client.post(f"/admin/incidents/proceduretemplate/{created.pk}/delete/",
                           {"post": "yes"})
    assert response.status_code == 302
    assert events("procedure_template.deleted")[0].payload["template"]["code"] == "rixe"


@pytest.mark.django_db
def test_runs_are_read_only_in_the_admin(api, staff, taxonomy):
    templates_import(text=VALID.split("- code: incendie-centre")[0], by=SYSTEM)
    run = run_start(incident=incident_for(taxonomy["incendie"]), by=SYSTEM)
    client = api(staff["administrator"])
    page = client.get(f"/admin/incidents/procedurerun/{run.pk}/change/")
    assert page.status_code == 200 and "Consigner les constatations" in page.content.decode()
    assert client.get("/admin/incidents/procedurerun/add/").status_code == 403
    response = client.post(f"/admin/incidents/procedurerun/{run.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ProcedureRun.objects.filter(pk=run.pk).exists()
