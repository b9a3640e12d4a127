"""A citizen reports a broken street light from a phone-sized browser; the operator's console
shows the alert live, with the citizen's words and a link to the report and its photo."""

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import log_in, prepare_city, screenshot
from tests.citizens.conftest import photo

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def prepare_catalogue():
    from citizens.catalogue import services_ensure_defaults

    services_ensure_defaults()


@database_sync_to_async
def stored_report(code):
    from citizens.models import Report

    report = Report.objects.select_related("alert").get(code=code)
    return report, report.alert, report.photos.count()


async def test_a_citizen_reports_and_the_operator_sees_it_live(chromium, page, asgi_server,
                                                                people, agencies):
    await prepare_city(agencies)
    await prepare_catalogue()
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await log_in(page, asgi_server, people["operator"])

    phone = await chromium.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844},
        geolocation={"latitude": 47.3075, "longitude": 5.0325}, permissions=["geolocation"],
    )
    citizen = await phone.new_page()
    errors = []
    citizen.on("pageerror", lambda error: errors.append(str(error)))
    await citizen.goto(f"{asgi_server.url}/signaler/")
    await citizen.get_by_role("link", name="Éclairage public en panne").click()
    await citizen.wait_for_selector("#report-map[data-ready='1']")

    # Submitting without a place is refused, in French, and the form keeps what was typed.
    await citizen.get_by_label("Description").fill("Trois lampadaires éteints devant l'école.")
    await citizen.get_by_role("button", name="Envoyer le signalement").click()
    await citizen.get_by_text("Indiquez le lieu du problème sur la carte").wait_for()
    assert await citizen.get_by_label("Description").input_value() == \
        "Trois lampadaires éteints devant l'école."

    # The phone's position places the marker; a photo with GPS EXIF is attached.
    await citizen.wait_for_selector("#report-map[data-ready='1']")
    await citizen.get_by_role("button", name="Me localiser").click()
    await citizen.wait_for_selector("#report-map[data-placed='1']")
    await citizen.get_by_label("Combien de lampadaires sont concernés ?").select_option("plusieurs")
    await citizen.get_by_label("Photos (facultatif)").set_input_files(
        [{"name": "lampadaire.jpg", "mimeType": "image/jpeg", "buffer": photo(gps=True)}])
    await screenshot(citizen, "citizen-form")
    await citizen.get_by_role("button", name="Envoyer le signalement").click()
    code = (await citizen.locator("#tracking-code").inner_text()).strip()
    await screenshot(citizen, "citizen-done")

    report, alert, photos = await stored_report(code)
    assert photos == 1 and alert.source == "citizen"
    assert abs(report.lat - 47.3075) < 1e-4 and abs(report.lon - 5.0325) < 1e-4

    # The operator's inbox shows it without a reload, with the text and the link to the reports.
    item = page.locator(f'#alert-inbox [data-alert-id="{alert.pk}"]')
    await item.wait_for()
    assert "Trois lampadaires éteints" in await item.inner_text()
    link = item.get_by_role("link", name="Signalements et photos")
    assert await link.get_attribute("href") == f"/console/signalements/?alerte={alert.pk}&etat=all"
    await page.wait_for_function(f"() => window.controlRoomConsole.hasFeature('alert-{alert.pk}')")
    await page.wait_for_function(f"() => window.controlRoomConsole.hasFeature('report-{report.pk}')")
    await screenshot(page, "console-citizen-alert")

    # The citizen follows the report with the code.
    await citizen.get_by_role("link", name="Suivre ce signalement").click()
    assert (await citizen.locator("#report-status").inner_text()).strip() == "reçu"
    await phone.close()
    assert not errors, errors
