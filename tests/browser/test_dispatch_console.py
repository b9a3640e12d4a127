"""Dispatch follows the procedure in the console: a dispatch step offers the available units of
its kind, nearest first; any other available unit is found by search and engaged from the step;
a step that acts is done by acting, or with the reason why not."""


import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import log_in, prepare_city, screenshot
from tests.incidents.conftest import DARCY, GARE, REPUBLIQUE, TOISON

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

BESIDE_DARCY = (DARCY[0] + 0.0003, DARCY[1])


@database_sync_to_async
def person_on_the_ground(agencies, people):
    """A person on the ground at place Darcy (its procedure asks for an ambulance, then a foot
    patrol) and units around: a foot patrol and a patrol car beside it, two ambulances further,
    a fire engine."""
    from incidents.models import Category
    from incidents.services import incidents as incident_services
    from incidents.services import units as unit_services

    for call_sign, kind, place in (
        ("PP-1", "foot_patrol", BESIDE_DARCY), ("PM-1", "patrol_car", BESIDE_DARCY),
        ("AMB-1", "ambulance", GARE), ("AMB-2", "ambulance", TOISON),
        ("FPT-1", "fire_engine", REPUBLIQUE),
    ):
        unit_services.unit_create(by="system:test", call_sign=call_sign, kind=kind,
                                  agency=agencies["pm"], lat=place[0], lon=place[1])
    return incident_services.incident_create(
        by=people["operator"], category=Category.objects.get(code="personne_au_sol"),
        title="Personne au sol place Darcy", lat=DARCY[0], lon=DARCY[1], priority=2).pk


@database_sync_to_async
def step_state(incident_id, key):
    from incidents.models import StepRun

    step = StepRun.objects.get(run__incident_id=incident_id, key=key)
    return step.status, step.evidence


async def test_a_dispatch_step_offers_its_kind_and_engages_a_searched_unit(
    page, asgi_server, people, agencies
):
    await prepare_city(agencies)
    incident_id = await person_on_the_ground(agencies, people)
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await log_in(page, asgi_server, people["operator"])
    await page.locator(f'#incident-list [data-incident-id="{incident_id}"]').click()
    ambulance = page.locator('.step[data-step-key="ambulance"]')
    await ambulance.locator(".step-units li").first.wait_for()

    # "Engager une ambulance" offers the ambulances, nearest first, and nothing else.
    offered = await ambulance.locator(".step-units li").all_inner_texts()
    assert [text.split(" ")[0] for text in offered] == ["AMB-1", "AMB-2"]
    assert await ambulance.get_by_role("button", name="Fait", exact=True).count() == 0

    # The operator searches another unit and engages it for this step.
    await ambulance.get_by_placeholder("Chercher une unité").fill("incendie")
    await ambulance.get_by_role("button", name="Chercher").click()
    result = ambulance.locator(".unit-results li", has_text="FPT-1")
    await result.wait_for()
    assert await ambulance.locator(".unit-results li").count() == 1
    await result.get_by_role("button", name="Engager").click()
    await page.wait_for_selector('.step[data-step-key="ambulance"].status-done')
    assert "FPT-1" in await page.locator('.step[data-step-key="ambulance"] .note').inner_text()
    status, evidence = await step_state(incident_id, "ambulance")
    assert status == "done" and evidence["call_sign"] == "FPT-1"

    # The foot patrol step offers the foot patrol; engaged from its list.
    patrol = page.locator('.step[data-step-key="patrouille"]')
    await patrol.locator('.step-units li', has_text="PP-1").get_by_role(
        "button", name="Engager").click()
    await page.wait_for_selector('.step[data-step-key="patrouille"].status-done')
    await screenshot(page, "console-dispatch-steps")

    # Showing the cameras acts; with no camera here, the operator says why, and it is kept.
    cameras = page.locator('.step[data-step-key="cameras"]')
    await cameras.get_by_role("button", name="Non fait…").click()
    reason = page.locator("dialog.ask.reason[open]")
    await reason.locator("textarea").fill("Aucune caméra ne couvre la place")
    await reason.get_by_role("button", name="Valider").click()
    await page.wait_for_selector('.step[data-step-key="cameras"].status-done')
    assert "Aucune caméra ne couvre la place" in await page.locator(
        '.step[data-step-key="cameras"] .evidence').inner_text()
    status, evidence = await step_state(incident_id, "cameras")
    assert evidence == {"action": "none", "reason": "Aucune caméra ne couvre la place"}


@database_sync_to_async
def detonation(emitter, place, source="sensor"):
    from incidents.models import Category
    from incidents.services import alerts as alert_services

    return alert_services.alert_receive(
        by="system:sound", source=source, category=Category.objects.get(code="coup_de_feu"),
        title="Détonation", lat=place[0], lon=place[1], severity=1, emitter=emitter,
        dedup_key=f"{emitter}:detonation").alert.pk


async def test_one_event_heard_by_several_sensors_is_one_alert_counting_its_sources(
    page, asgi_server, people, agencies
):
    await prepare_city(agencies)
    first = await detonation("sound:SON-1", DARCY)
    assert await detonation("sound:SON-2", BESIDE_DARCY) == first
    await log_in(page, asgi_server, people["operator"])
    item = page.locator(f'#alert-inbox [data-alert-id="{first}"]')
    await item.locator(".sources").wait_for()
    assert "2 sources" in await item.inner_text()
    assert await page.locator("#alert-inbox li[data-alert-id]").count() == 1

    # A camera sees it too: the same alert counts it, live.
    assert await detonation("camera:CAM-1", DARCY, source="camera") == first
    await page.wait_for_selector(f'#alert-inbox [data-alert-id="{first}"] .sources[data-sources="3"]')
    assert await page.locator("#alert-inbox li[data-alert-id]").count() == 1
