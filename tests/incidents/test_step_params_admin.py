"""Procedure steps' settings in the admin are fields, not a JSON text."""

import pytest

from incidents.admin import procedures as procedures_admin  # noqa: F401 - registers the admin
from incidents.models import ProcedureTemplate
from tests.incidents.procedure_setup import staff_fixture, taxonomy_fixture  # noqa: F401
from tests.incidents.test_procedure_yaml import step_rows

pytestmark = pytest.mark.django_db


def test_step_settings_are_fields_and_saved_as_params(api, staff, taxonomy):
    client = api(staff["administrator"])
    page = client.get("/admin/incidents/proceduretemplate/add/").content.decode()
    assert "Type d&#x27;unité à engager" in page or "Type d'unité à engager" in page
    assert "controlroom/js/step_params.js" in page

    template = {"code": "incendie", "name": "Incendie", "description": "",
                "category": taxonomy["incendie"].pk, "min_priority": "", "sector": "",
                "active": "on"}
    dispatch = {"order": "1", "key": "ambulance", "kind": "dispatch", "mandatory": "on",
                "instruction": "Engager une ambulance", "params__unit_kind": "ambulance",
                "params__count": "3"}
    panel = {"order": "2", "key": "panneau", "kind": "device_command", "mandatory": "on",
             "instruction": "Afficher un message", "params__device_kind": "message_panel",
             "params__command": "show", "params__lines": "INCENDIE\nÉVITEZ LE SECTEUR",
             "params__duration_s": "600", "params__level": "50", "params__radius_m": "400"}
    cameras = {"order": "3", "key": "cameras", "kind": "show_cameras", "mandatory": "",
               "instruction": "Afficher les caméras", "params__count": "4",
               "params__others": '{"zoom": 18}'}
    response = client.post("/admin/incidents/proceduretemplate/add/",
                           template | step_rows([dispatch, panel, cameras]))

    assert response.status_code == 302, response.content.decode()[:3000]
    steps = {s.key: s.params for s in ProcedureTemplate.objects.get(code="incendie").steps.all()}
    assert steps["ambulance"] == {"unit_kind": "ambulance"}  # a camera count has no use here
    assert steps["panneau"] == {"device_kind": "message_panel", "command": "show",
                                "radius_m": 400,
                                "params": {"lines": ["INCENDIE", "ÉVITEZ LE SECTEUR"],
                                           "duration_s": 600}}
    assert steps["cameras"] == {"count": 4, "zoom": 18}  # an unknown key is kept


def test_wrong_step_settings_are_refused(api, staff, taxonomy):
    client = api(staff["administrator"])
    template = {"code": "incendie", "name": "Incendie", "description": "",
                "category": taxonomy["incendie"].pk, "min_priority": "", "sector": "",
                "active": "on"}
    panel = {"order": "1", "key": "panneau", "kind": "device_command", "mandatory": "on",
             "instruction": "Afficher", "params__device_kind": "message_panel",
             "params__command": "show", "params__lines": "UNE LIGNE BEAUCOUP TROP LONGUE"}

    response = client.post("/admin/incidents/proceduretemplate/add/",
                           template | step_rows([panel]))

    assert response.status_code == 200
    assert "caractères au plus" in response.content.decode()
    assert not ProcedureTemplate.objects.exists()
