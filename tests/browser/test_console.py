"""The operator console in headless Chromium: alerts arrive live, are handled without a reload,
the procedure is followed, a second operator sees it happen, and a liaison sees only their own.

The server is a separate process: a partner's alert is POSTed to it over HTTP, so it is journaled
and pushed by the server itself, as in production.
"""

import asyncio
import json
import os
import urllib.request
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from tests.conftest import PASSWORD, ROOT
from tests.incidents.conftest import GARE, REPUBLIQUE

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

ARTIFACTS = Path(os.environ.get("CONTROLROOM_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@database_sync_to_async
def prepare_city(agencies):
    """Dijon, its taxonomy and procedures, and a partner system allowed to post alerts."""
    from shapely.geometry import Polygon

    from controlroom import services as config
    from demo import city as city_demo
    from demo.procedures import load_demo_procedures
    from incidents.models import PartnerSystem
    from incidents.services.incidents import category_ensure_defaults

    city = config.city_ensure(name="Dijon",
                              boundary=city_demo._geojson(Polygon(city_demo.DIJON_OUTLINE)))
    polygons = city_demo.quartier_polygons()
    for code, name, _centre in city_demo.QUARTIERS:
        config.sector_ensure(city=city, code=code, name=name, geometry=polygons[code])
    category_ensure_defaults()
    load_demo_procedures()
    partner = PartnerSystem(code="divia", name="Divia", agency=agencies["pn"], scopes=["alerts"])
    token = partner.issue_token()
    partner.save()
    return token


def post_alert(server, token, **body):
    data = {"category": "rassemblement", "severity": 2, "lat": REPUBLIQUE[0],
            "lon": REPUBLIQUE[1], "title": "Rassemblement signalé par Divia", **body}
    request = urllib.request.Request(
        f"{server.url}/api/alerts/", data=json.dumps(data).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def log_in(page, server, user, path="/console/"):
    await page.goto(f"{server.url}/connexion/?next={path}")
    await page.get_by_label("Identifiant").fill(user.username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(f"{server.url}{path}")
    await page.wait_for_selector("body[data-map-ready='1']", state="attached")
    await page.wait_for_selector('#live-state[data-state="connected"]', state="attached")


async def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_an_alert_is_handled_and_its_procedure_followed_live(
    chromium, page, asgi_server, people, agencies
):
    token = await prepare_city(agencies)
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await log_in(page, asgi_server, people["operator"])

    # 1. A partner posts an alert: it appears in the inbox and on the map, without reload.
    alert = await asyncio.to_thread(post_alert, asgi_server, token)
    item = page.locator(f'#alert-inbox [data-alert-id="{alert["id"]}"]')
    await item.wait_for()
    assert "Rassemblement signalé par Divia" in await item.inner_text()
    await page.wait_for_function(f"() => window.controlRoomConsole.hasFeature('alert-{alert['id']}')")
    await screenshot(page, "console-alert")

    # A second operator watches from another browser.
    other_context = await chromium.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    other = await other_context.new_page()
    await log_in(other, asgi_server, people["supervisor"])

    # 2. Acknowledge, then open an incident: the procedure for the category appears.
    await item.get_by_role("button", name="Acquitter").click()
    await page.wait_for_selector(f'#alert-inbox [data-alert-id="{alert["id"]}"].status-acknowledged')
    await page.locator(f'#alert-inbox [data-alert-id="{alert["id"]}"]').get_by_role(
        "button", name="Ouvrir un incident").click()
    stepper = page.locator("#incident-view .stepper")
    await stepper.wait_for()
    assert "Rassemblement nocturne" in await stepper.locator("h3").inner_text()
    await page.wait_for_selector(f'#alert-inbox [data-alert-id="{alert["id"]}"]', state="detached")
    incident_id = int(await page.locator("#incident-view").get_attribute("data-incident-id"))

    # The supervisor opens the same incident.
    await other.locator(f'#incident-list [data-incident-id="{incident_id}"]').click()
    await other.locator("#incident-view .stepper").wait_for()

    # Answer the branching question "no": the steps up to the patrol are left out.
    question = page.locator('.step[data-step-key="ampleur"]')
    # Showing the cameras is a step that acts: without a camera shown, the operator says why.
    cameras_step = page.locator('.step[data-step-key="cameras"]')
    assert await cameras_step.get_by_role("button", name="Fait", exact=True).count() == 0
    await cameras_step.get_by_role("button", name="Non fait…").click()
    reason = page.locator("dialog.ask.reason[open]")
    await reason.locator("textarea").fill("Aucune caméra sur la place")
    await reason.get_by_role("button", name="Valider").click()
    await page.wait_for_selector('.step[data-step-key="cameras"].status-done')
    await question.get_by_role("button", name="Non").click()
    await page.wait_for_selector('.step[data-step-key="police-nationale"].status-bypassed')
    assert "current" in await page.locator('.step[data-step-key="patrouille"]').get_attribute("class")
    await screenshot(page, "console-incident")

    # The supervisor's timeline shows both, live.
    timeline = other.locator("#incident-timeline")
    await timeline.locator("li", has_text="Étape faite").wait_for()
    await timeline.locator("li", has_text="Réponse").wait_for()
    await other.wait_for_selector('.step[data-step-key="police-nationale"].status-bypassed')
    await other_context.close()


async def test_alerts_posted_while_disconnected_show_once(page, asgi_server, people, agencies):
    token = await prepare_city(agencies)
    await log_in(page, asgi_server, people["operator"])
    asgi_server.stop()
    await page.wait_for_selector('#live-state[data-state="reconnecting"]', state="attached")
    asgi_server.start()
    posted = [await asyncio.to_thread(post_alert, asgi_server, token, title=f"Alerte {i}",
                                      lat=GARE[0], lon=GARE[1], source_ref=f"ref-{i}")
              for i in range(3)]
    for alert in posted:
        await page.wait_for_selector(f'#alert-inbox [data-alert-id="{alert["id"]}"]',
                                     state="attached", timeout=20_000)
    await page.wait_for_selector('#live-state[data-state="connected"]', state="attached")
    ids = await page.eval_on_selector_all("#alert-inbox li", "items => items.map(i => i.dataset.alertId)")
    assert sorted(ids) == sorted(str(a["id"]) for a in posted)


async def test_a_liaison_sees_only_the_incidents_of_their_agency(page, asgi_server, people,
                                                                 agencies):
    await prepare_city(agencies)

    @database_sync_to_async
    def incidents():
        from incidents.models import Category, Unit
        from incidents.services import incidents as incident_services
        from incidents.services import units as unit_services

        rixe = Category.objects.get(code="rixe")
        shared = incident_services.incident_create(by=people["operator"], category=rixe,
                                                   title="Rixe partagée", lat=GARE[0], lon=GARE[1])
        hidden = incident_services.incident_create(
            by=people["operator"], category=rixe, title="Rixe municipale",
            lat=REPUBLIQUE[0], lon=REPUBLIQUE[1])
        unit = Unit.objects.create(call_sign="PN-BAC", kind="patrol_car", agency=agencies["pn"])
        unit.set_point(*GARE)
        unit.save()
        unit_services.unit_assign(incident=shared, unit=unit, by=people["operator"])
        return shared, hidden

    shared, hidden = await incidents()
    await log_in(page, asgi_server, people["liaison_pn"])
    await page.locator(f'#incident-list [data-incident-id="{shared.pk}"]').wait_for()
    listed = await page.eval_on_selector_all("#incident-list li",
                                             "items => items.map(i => i.dataset.incidentId)")
    assert listed == [str(shared.pk)]
    assert await page.evaluate(f"window.controlRoomConsole.hasFeature('incident-{shared.pk}')")
    assert not await page.evaluate(f"window.controlRoomConsole.hasFeature('incident-{hidden.pk}')")
    assert await page.locator("#alert-inbox li").count() == 0


async def test_anonymous_visitors_are_sent_to_login_and_language_switches(page, asgi_server,
                                                                          people):
    await page.goto(f"{asgi_server.url}/console/")
    assert "/connexion/" in page.url
    await log_in(page, asgi_server, people["operator"])
    assert "Alertes" in await page.locator(".inbox-card h2").inner_text()
    await page.locator("form.lang button[value='en']").click()
    await page.wait_for_selector("html[lang='en']")
    await page.wait_for_selector("body[data-map-ready='1']", state="attached")
    assert "Alerts" in await page.locator(".inbox-card h2").inner_text()
    await page.locator("form.lang button[value='fr']").click()
    await page.wait_for_selector("html[lang='fr']")
    assert "Alertes" in await page.locator(".inbox-card h2").inner_text()


async def test_the_wall_view_follows_the_stream(page, asgi_server, people, agencies):
    token = await prepare_city(agencies)
    await log_in(page, asgi_server, people["operator"], path="/console/wall/")
    assert await page.locator("#alert-inbox").count() == 0  # the map alone
    alert = await asyncio.to_thread(post_alert, asgi_server, token, source_ref="wall-1")
    await page.wait_for_function(f"() => window.controlRoomConsole.hasFeature('alert-{alert['id']}')")
    await screenshot(page, "console-wall")


async def test_keyboard_shortcuts(page, asgi_server, people, agencies):
    token = await prepare_city(agencies)
    await log_in(page, asgi_server, people["operator"])
    first = await asyncio.to_thread(post_alert, asgi_server, token, source_ref="k-1", severity=3)
    second = await asyncio.to_thread(post_alert, asgi_server, token, source_ref="k-2", severity=1,
                                     category="rixe")
    for alert in (first, second):
        await page.locator(f'#alert-inbox [data-alert-id="{alert["id"]}"]').wait_for()
    await page.keyboard.press("?")
    await page.locator("#help-dialog[open]").wait_for()
    await page.keyboard.press("Escape")
    # The most serious alert comes first; "j" moves down to the next one, "a" acknowledges it.
    order = await page.eval_on_selector_all("#alert-inbox li", "l => l.map(i => i.dataset.alertId)")
    assert order == [str(second["id"]), str(first["id"])]
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await page.keyboard.press("a")
    await page.wait_for_selector(
        f'#alert-inbox [data-alert-id="{first["id"]}"].status-acknowledged', state="attached")
    assert await page.locator(f'#alert-inbox [data-alert-id="{second["id"]}"].status-new').count() == 1


async def test_a_dismissal_in_progress_survives_new_alerts(page, asgi_server, people, agencies):
    token = await prepare_city(agencies)
    await log_in(page, asgi_server, people["operator"])
    first = await asyncio.to_thread(post_alert, asgi_server, token, source_ref="f-1")
    item = page.locator(f'#alert-inbox [data-alert-id="{first["id"]}"]')
    await item.get_by_role("button", name="Écarter").click()
    await item.locator("select[name=reason]").select_option("false_alarm")
    await item.locator("input[name=note]").fill("Caméra masquée par un camion")
    second = await asyncio.to_thread(post_alert, asgi_server, token, source_ref="f-2")
    await page.locator(f'#alert-inbox [data-alert-id="{second["id"]}"]').wait_for()
    assert await item.locator("input[name=note]").input_value() == "Caméra masquée par un camion"
    await item.locator("form").get_by_role("button", name="Écarter").click()
    await item.wait_for(state="detached")


async def test_alerts_posted_while_the_socket_is_down_show_once(page, asgi_server, people,
                                                                agencies):
    token = await prepare_city(agencies)
    await log_in(page, asgi_server, people["operator"])
    # Cut the console's socket and keep it from reconnecting while alerts are posted.
    await page.evaluate("""() => {
        const stream = window.controlRoomConsole.stream;
        stream.realPath = stream.socketPath;
        stream.socketPath = "/ws/nowhere/";
        stream.reconnect();
    }""")
    await page.wait_for_selector('#live-state[data-state="reconnecting"]', state="attached")
    posted = [await asyncio.to_thread(post_alert, asgi_server, token, title=f"Coupure {i}",
                                      source_ref=f"cut-{i}") for i in range(4)]
    await asyncio.sleep(1)
    assert await page.locator("#alert-inbox li[data-alert-id]").count() == 0
    await page.evaluate("() => { const s = window.controlRoomConsole.stream; "
                        "s.socketPath = s.realPath; }")
    for alert in posted:
        await page.wait_for_selector(f'#alert-inbox [data-alert-id="{alert["id"]}"]',
                                     state="attached", timeout=20_000)
    await page.wait_for_selector('#live-state[data-state="connected"]', state="attached")
    await asyncio.sleep(1)  # a few heartbeats: any duplicate would have arrived by now
    ids = await page.eval_on_selector_all("#alert-inbox li[data-alert-id]",
                                          "items => items.map(i => i.dataset.alertId)")
    assert sorted(ids) == sorted(str(a["id"]) for a in posted)
    for alert in posted:
        assert await page.evaluate(f"window.controlRoomConsole.hasFeature('alert-{alert['id']}')")
