"""The replay page in headless Chromium: the slider and playback redraw the map as it was."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import prepare_city, screenshot
from tests.conftest import PASSWORD
from tests.incidents.conftest import GARE, REPUBLIQUE

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def a_story(people, agencies):
    """An incident opened with a unit sent, a second one, then the first closed: three
    moments a second apart. Returns the incidents and the journal's head."""
    import time

    from controlroom.journal import head_seq
    from incidents.models import Category, Incident
    from incidents.services import incidents as incident_services
    from incidents.services import units as unit_services

    operator, supervisor = people["operator"], people["supervisor"]
    unit = unit_services.unit_create(by="system:test", call_sign="PM 7", kind="patrol_car",
                                     agency=agencies["pm"], lat=GARE[0], lon=GARE[1])
    first = incident_services.incident_create(
        by=operator, category=Category.objects.get(code="rixe"), title="Rixe place de la "
        "République", lat=REPUBLIQUE[0], lon=REPUBLIQUE[1])
    unit_services.unit_assign(incident=first, unit=unit, by=operator)
    time.sleep(1.2)
    second = incident_services.incident_create(
        by=operator, category=Category.objects.get(code="accident_circulation"),
        title="Accident devant la gare", lat=GARE[0], lon=GARE[1])
    time.sleep(1.2)
    for status in ("resolved", "closed"):
        incident_services.incident_transition(incident=first, to=status,
                                              by=supervisor if status == "closed" else operator)
    return Incident.objects.get(pk=first.pk), Incident.objects.get(pk=second.pk), head_seq()


async def open_replay(page, server, user):
    await page.goto(f"{server.url}/connexion/?next=/console/replay/")
    await page.get_by_label("Identifiant").fill(user.username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(f"{server.url}/console/replay/")
    await page.wait_for_selector("body[data-map-ready='1']", state="attached")


async def shows(page, key: str) -> bool:
    return await page.evaluate("(key) => window.controlRoomReplay.hasFeature(key)", key)


async def wait_seq(page, seq: int):
    await page.wait_for_selector(f"body[data-replay-seq='{seq}']", state="attached")


async def test_the_slider_and_playback_redraw_the_map_as_it_was(
    chromium, page, asgi_server, people, agencies
):
    await prepare_city(agencies)
    first, second, head = await a_story(people, agencies)
    await open_replay(page, asgi_server, people["supervisor"])

    # The range starts before the story: nothing on the map yet.
    assert not await shows(page, f"incident-{first.pk}")
    slider = page.locator("#replay-slider")

    # The end of the range: the first incident is closed, the second open.
    await slider.press("End")
    await wait_seq(page, head)
    assert not await shows(page, f"incident-{first.pk}")
    assert await shows(page, f"incident-{second.pk}")
    await page.wait_for_selector(f"#replay-incidents li[data-incident='{second.pk}']")
    assert await page.locator("#replay-incidents li").count() == 1

    # A click on the first incident's creation in the timeline goes back to that instant.
    created = page.locator("#replay-timeline li", has_text="Rixe place de la République").first
    await created.click()
    await page.wait_for_function(
        "(key) => window.controlRoomReplay.hasFeature(key)", arg=f"incident-{first.pk}")
    assert not await shows(page, f"incident-{second.pk}")
    assert await page.locator("#replay-timeline li.future").count() > 0
    # The unit sent to it a moment later: engaged on the incident, on the map.
    await page.locator("#replay-timeline li", has_text="Unité engagée").first.click()
    await page.locator(f"#replay-incidents li[data-incident='{first.pk}']",
                       has_text="PM 7").wait_for()
    assert await page.evaluate("() => [...document.querySelectorAll('#replay-incidents li')]"
                               ".length") == 1

    # Playback at 60×, from the start: it runs to the end of the range and stops there.
    await slider.press("Home")
    await page.get_by_role("button", name="60×").click()
    await page.get_by_role("button", name="Lecture").click()
    assert await page.get_by_role("button", name="Pause").is_visible()
    await wait_seq(page, head)
    await page.get_by_role("button", name="Lecture").wait_for()
    assert await shows(page, f"incident-{second.pk}")
    assert not await shows(page, f"incident-{first.pk}")
    await screenshot(page, "replay")

    # Narrowed to the first incident: its story only, and at the end, an empty map.
    await page.get_by_label("Incident n°").fill(str(first.pk))
    await page.get_by_role("button", name="Charger").click()
    await page.wait_for_function(
        "(reference) => { const items = [...document.querySelectorAll('#replay-timeline li')];"
        " return items.length > 2 && items.every((li) => li.textContent.includes(reference)); }",
        arg=first.reference)
    summaries = await page.locator("#replay-timeline li").all_inner_texts()
    assert not any(second.reference in text for text in summaries)
    await slider.press("End")
    await wait_seq(page, head)
    await asyncio.sleep(0.2)
    assert not await shows(page, f"incident-{second.pk}")
