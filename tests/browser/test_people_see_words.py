"""What people see, in Chromium: error pages in the site's layout and language, the API docs
asking a stranger to sign in, the citizen placing the map by street or keyboard and keeping a
photo after a refusal, the observatory's legends, place names and translated headers, the
admin's map and step settings, Leaflet.draw in French."""

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_accessibility import catalogue, sign_in, superuser
from tests.browser.test_console import log_in, prepare_city, screenshot
from tests.browser.test_crisis_room import enter, open_crisis
from tests.browser.test_observatory import a_history
from tests.citizens.conftest import photo

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def stored_report(code):
    from citizens.models import Report

    report = Report.objects.get(code=code)
    return report, report.photos.count()


async def test_error_pages_speak_the_visitors_language_and_lead_back(chromium, page,
                                                                     asgi_server, agencies):
    await prepare_city(agencies)
    response = await page.goto(f"{asgi_server.url}/nulle-part/")
    assert response.status == 404
    assert await page.get_by_role("heading", name="Page introuvable").is_visible()
    assert await page.locator("header.topbar").is_visible()  # the site's layout
    await page.get_by_role("link", name="Retour à l'accueil").wait_for()
    assert await page.locator("link[rel='icon']").count() >= 1

    await page.get_by_role("button", name="EN").click()
    await page.get_by_role("heading", name="Page not found").wait_for()
    assert await page.get_by_role("link", name="Back to the home page").is_visible()

    # The API docs send a stranger to the sign-in page, and back after.
    await page.goto(f"{asgi_server.url}/api/docs/")
    assert "/connexion/?next=/api/docs/" in page.url
    favicon = await page.request.get(f"{asgi_server.url}/favicon.ico")
    assert favicon.ok and favicon.headers["content-type"].startswith("image/")


async def test_a_citizen_places_the_map_by_street_and_keyboard_and_keeps_a_photo(
        chromium, page, asgi_server, agencies):
    await prepare_city(agencies)
    await catalogue()
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{asgi_server.url}/signaler/eclairage-public/")
    await page.wait_for_selector("#report-map[data-ready='1']")

    # By address: the house number is allowed, the marker goes to the street.
    await page.get_by_label("Adresse, rue ou place").fill("12 rue berbisey")
    await page.get_by_label("Adresse, rue ou place").press("Enter")
    await page.wait_for_selector("#report-map[data-placed='1']", state="attached")
    lat = float(await page.locator("#id_lat").input_value())
    lon = float(await page.locator("#id_lon").input_value())
    assert abs(lat - 47.3178) < 0.002 and abs(lon - 5.0368) < 0.002
    assert "Rue Berbisey" in await page.locator("#map-status").inner_text()
    assert await page.get_by_label("Précisions sur le lieu (facultatif)").input_value() == \
        "12 rue berbisey"

    # By keyboard: arrows move the map, Enter puts the marker at its centre.
    await page.locator("#report-map").focus()
    for _ in range(3):
        await page.keyboard.press("ArrowUp")
    await page.wait_for_timeout(400)
    await page.keyboard.press("Enter")
    assert float(await page.locator("#id_lat").input_value()) > lat

    # Refused for its description: the photo is kept, the citizen does not attach it again.
    await page.get_by_label("Description").fill("Éteint")
    await page.get_by_label("Combien de lampadaires sont concernés ?").select_option("un")
    await page.get_by_label("Photos (facultatif)").set_input_files(
        [{"name": "lampadaire.jpg", "mimeType": "image/jpeg", "buffer": photo(gps=True)}])
    await page.get_by_role("button", name="Envoyer le signalement").click()
    kept = page.locator("#kept-photos")
    await kept.wait_for()
    assert "lampadaire.jpg" in await kept.inner_text()
    await screenshot(page, "citizen-photo-kept")
    await page.get_by_label("Description").fill("Lampadaire éteint devant le numéro 4.")
    await page.get_by_role("button", name="Envoyer le signalement").click()
    code = (await page.locator("#tracking-code").inner_text()).strip()
    report, photos = await stored_report(code)
    assert photos == 1


async def test_the_observatory_shows_legends_place_names_and_translated_headers(
        chromium, page, asgi_server, agencies):
    await prepare_city(agencies)
    analyst = await a_history(agencies)
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await sign_in(page, asgi_server, analyst.username, "/observatoire/")
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)

    assert await page.locator("#heatmap .map-legend").count() == 1
    assert await page.locator("#forecast-map .map-legend").count() == 1
    assert "Faits par hexagone" in await page.locator("#heatmap .map-legend").inner_text()
    await page.wait_for_selector("#heatmap .sector-name")
    assert "Centre-ville" in await page.locator("#heatmap").inner_text()
    headers = await page.locator("#table-categories th").all_inner_texts()
    assert headers == ["Catégorie", "Nombre de faits"]
    first = await page.locator("#table-categories tr:nth-child(2) td").first.inner_text()
    assert "_" not in first  # a label, not a code
    # 140 days of history: nothing a year before, so no year-before line.
    assert await page.locator("#chart-trend").get_attribute("data-series") == "1"
    await screenshot(page, "observatory-legends")

    await page.get_by_role("button", name="EN").click()
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    await page.wait_for_function(
        "() => document.querySelector('#table-categories th')?.textContent === 'Category'")
    assert "Facts per hexagon" in await page.locator("#heatmap .map-legend").inner_text()


async def test_the_admin_picks_a_place_on_a_map_and_shows_only_a_steps_settings(
        chromium, page, asgi_server, agencies):
    await prepare_city(agencies)
    root = await superuser()
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await sign_in(page, asgi_server, root.username, "/admin/devices/device/add/")
    await page.wait_for_selector(".place-picker-map[data-ready='1']")
    box = await page.locator(".place-picker-map").bounding_box()
    await page.mouse.click(box["x"] + box["width"] / 2 + 20, box["y"] + box["height"] / 2)
    lat = float(await page.locator("#id_lat").input_value())
    lon = float(await page.locator("#id_lon").input_value())
    assert 47.2 < lat < 47.4 and 4.9 < lon < 5.2
    assert await page.locator(".place-picker-status").inner_text() == "Point placé."

    await page.goto(f"{asgi_server.url}/admin/incidents/proceduretemplate/add/")
    await page.locator(".add-row a").first.click()
    step = page.locator(".inline-related:not(.empty-form)").last
    await step.locator("select[name$='-kind']").select_option("dispatch")
    assert await step.get_by_label("Type d'unité à engager").is_visible()
    assert not await step.get_by_label("Commande", exact=True).is_visible()
    await step.locator("select[name$='-kind']").select_option("device_command")
    assert await step.get_by_label("Commande", exact=True).is_visible()
    assert not await step.get_by_label("Type d'unité à engager").is_visible()
    options = await step.get_by_label("plan de feux").locator("option").all_inner_texts()
    assert "orange clignotant" in options and "flashing_amber" not in options


async def test_leaflet_draw_speaks_french(chromium, page, asgi_server, people, agencies):
    await prepare_city(agencies)
    crisis = await open_crisis(people, agencies)
    await enter(page, asgi_server, people["supervisor"], f"/crises/{crisis.pk}/")

    assert await page.locator(".leaflet-draw-draw-polygon").get_attribute("title") == \
        "Tracer une zone"
    await page.locator(".leaflet-draw-draw-polygon").click()
    await page.mouse.move(400, 400)
    assert "Cliquez pour commencer la zone." in await page.locator(
        ".leaflet-draw-tooltip").inner_text()


@database_sync_to_async
def a_followed_fire(people, agencies):
    """A fire with its procedure partly followed and a unit engaged; a street light that is on."""
    from controlroom.selectors import sector_at
    from devices.models import Device
    from incidents.models import Category
    from incidents.services import incidents as incident_services
    from incidents.services import procedures as procedure_services
    from incidents.services import units as unit_services
    from tests.incidents.conftest import DARCY, REPUBLIQUE

    light = Device(code="lum-words", name="Candélabre place Darcy", kind="street_light",
                   address="lum-words", state={"on": True, "level": 100})
    light.set_point(*DARCY)
    light.sector = sector_at(lat=light.lat, lon=light.lon)
    light.save()
    unit = unit_services.unit_create(by="system:test", call_sign="PN-BAC-21", kind="patrol_car",
                                     agency=agencies["pn"], lat=DARCY[0], lon=DARCY[1])
    boss = people["supervisor"]
    incident = incident_services.incident_create(
        by=boss, category=Category.objects.get(code="incendie"), title="Feu de poubelles",
        lat=REPUBLIQUE[0], lon=REPUBLIQUE[1], priority=1)
    incident_services.incident_transition(incident=incident, to="acknowledged", by=boss)
    run = incident.procedure_runs.first() or procedure_services.run_start(incident=incident,
                                                                          by=boss)
    steps = {step.key: step for step in run.steps.all()}
    procedure_services.step_complete(step=steps["codis"], by=boss)
    procedure_services.step_answer(step=run.steps.get(key="victimes"), answer=True, by=boss)
    unit_services.unit_assign(incident=incident, unit=unit, by=boss)
    return incident.pk, light.pk


async def test_the_console_reads_words_not_codes(chromium, page, asgi_server, people, agencies):
    from tests.controlroom.test_words_not_codes import raw_codes

    await prepare_city(agencies)
    incident, light = await a_followed_fire(people, agencies)
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await log_in(page, asgi_server, people["supervisor"])

    await page.locator(f'#incident-list [data-incident-id="{incident}"]').click()
    timeline = page.locator("#incident-timeline")
    await timeline.locator("li", has_text="Prévenir immédiatement le CODIS").wait_for()
    text = await timeline.inner_text()
    assert "nouveau → pris en compte" in text
    assert "PN-BAC-21" in text
    view = await page.locator("#incident-view").inner_text()
    assert raw_codes(view, language="fr",
                     keys=["codis", "perimetre"]) == []  # "victimes" is a word of a step

    await page.wait_for_function(f"() => window.controlRoomConsole.hasFeature('device-{light}')")
    await page.evaluate(f"window.controlRoomConsole.openPopup('device-{light}')")
    popup = page.locator(f'.device-popup[data-device-id="{light}"]')
    await popup.wait_for()
    state = await popup.locator(".state-lines").inner_text()
    assert "allumé : oui" in state and "niveau (%) : 100" in state
    assert raw_codes(state, language="fr") == [] and "true" not in state
    await screenshot(page, "console-words")
