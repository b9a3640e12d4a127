"""The crisis room in headless Chromium: a supervisor draws a perimeter with Leaflet.draw and a
fire brigade liaison sees it at once on their map; the liaison's logbook entry reaches the
supervisor; closing the crisis ends the liaison's access."""

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import prepare_city, screenshot
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def open_crisis(people, agencies):
    from incidents.services import crises

    return crises.crisis_open(by=people["supervisor"], kind="flood", title="Crue de l'Ouche",
                              agencies=[agencies["sdis"]])


@database_sync_to_async
def drawings_of(crisis):
    return list(crisis.drawings.filter(removed_at=None).values("kind", "geometry"))


async def enter(page, server, user, path):
    await page.goto(f"{server.url}/connexion/?next={path}")
    await page.get_by_label("Identifiant").fill(user.username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(f"{server.url}{path}")
    await page.wait_for_selector("body[data-map-ready='1']", state="attached")
    await page.wait_for_selector('#live-state[data-state="connected"]', state="attached")


async def test_a_drawing_and_a_log_entry_reach_every_participant_live(
    chromium, page, asgi_server, people, agencies
):
    await prepare_city(agencies)
    crisis = await open_crisis(people, agencies)
    path = f"/crises/{crisis.pk}/"
    await enter(page, asgi_server, people["supervisor"], path)
    liaison_context = await chromium.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    liaison = await liaison_context.new_page()
    errors = []
    liaison.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await enter(liaison, asgi_server, people["liaison_sdis"], path)

        # The supervisor draws a security perimeter: three clicks, then the first point again.
        await page.get_by_label("Type du prochain tracé").select_option("perimeter")
        await page.get_by_label("Libellé").fill("Quais inondés")
        await page.locator(".leaflet-draw-draw-polygon").click()
        box = await page.locator("#crisis-map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in ((-80, -50), (80, -50), (0, 60), (-80, -50)):
            await page.mouse.click(cx + dx, cy + dy)
            await page.wait_for_timeout(150)
        await page.wait_for_function("() => window.crisisRoom.drawingIds().length === 1")
        (saved,) = await drawings_of(crisis)
        assert saved["kind"] == "perimeter" and saved["geometry"]["type"] == "Polygon"
        assert len(saved["geometry"]["coordinates"][0]) == 4  # three corners, closed

        # The liaison's map shows it without a reload.
        await liaison.wait_for_function("() => window.crisisRoom.drawingIds().length === 1")
        kind = await liaison.evaluate(
            "() => window.crisisRoom.drawingKind(window.crisisRoom.drawingIds()[0])")
        assert kind == "perimeter"

        # The liaison writes in the logbook; the supervisor reads it live.
        await liaison.get_by_label("Nouvelle entrée").fill("Deux engins de pompage en place")
        await liaison.get_by_role("button", name="Inscrire").click()
        await page.locator("#crisis-log li", has_text="Deux engins de pompage en place").wait_for()
        assert "sdis1" in await page.locator("#crisis-log li").first.inner_text()
        await screenshot(page, "crisis-room")

        # Closing: the room turns read-only for everyone; the liaison's access ends.
        await page.get_by_label("Bilan").fill("Décrue amorcée, quais rouverts.")
        await page.get_by_role("button", name="Clore la crise").click()
        await liaison.wait_for_selector("#crisis-status[data-status='closed']", state="attached")
        assert await liaison.locator("#log-form").is_hidden()
        response = await liaison.goto(f"{asgi_server.url}{path}")
        assert response.status == 404
    finally:
        await liaison_context.close()
    assert not errors, errors
