"""The console as a supervisor and an operator use it all night, in headless Chromium: fixed
panes that never scroll each other away at 1920×1080, counts in the top bar, a chime for a new
approval, approvals with their context, refusals told to the requester, no button that can only
fail, Esc that closes what is open, and a map readable without a tile server."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import log_in, prepare_city, screenshot
from tests.incidents.conftest import DARCY, GARE, REPUBLIQUE, TOISON

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

# Every oscillator the page starts is counted: the chime is made with WebAudio, not a file.
COUNT_OSCILLATORS = """
(() => {
  window.__oscillators = 0;
  const Real = window.AudioContext;
  if (!Real) return;
  window.AudioContext = class extends Real {
    createOscillator() { window.__oscillators += 1; return super.createOscillator(); }
  };
})();
"""


@database_sync_to_async
def alerts(people, count, *, place=REPUBLIQUE, severity=3, prefix="a", category="rassemblement"):
    from incidents.models import Category
    from incidents.services import alerts as alert_services

    made = []
    for i in range(count):
        made.append(alert_services.alert_receive(
            by=people["operator"], source="operator", category=Category.objects.get(code=category),
            title=f"Alerte {prefix}-{i}", lat=place[0] + i * 0.00001, lon=place[1],
            severity=severity, source_ref=f"{prefix}-{i}", source_system="test").alert.pk)
    return made


@database_sync_to_async
def incident(people, category="rixe", place=GARE, title="Rixe devant la gare"):
    from incidents.models import Category
    from incidents.services.incidents import incident_create

    return incident_create(by=people["operator"], category=Category.objects.get(code=category),
                           title=title, lat=place[0], lon=place[1])


@database_sync_to_async
def bollard_request(people, incident_pk=None, reason="Passage des pompiers"):
    from controlroom.selectors import sector_at
    from devices.models import Device
    from devices.services import commands as command_services
    from incidents.models import Incident

    device, _created = Device.objects.get_or_create(
        code="borne-liberte", defaults={"name": "Borne rue de la Liberté", "kind": "bollard",
                                        "address": "borne-liberte", "lat": DARCY[0],
                                        "lon": DARCY[1]})
    if _created:
        device.set_point(*DARCY)
        device.sector = sector_at(lat=DARCY[0], lon=DARCY[1])
        device.save()
    linked = Incident.objects.get(pk=incident_pk) if incident_pk else None
    return command_services.command_request(device=device, action="lower", params={},
                                            by=people["operator"], incident=linked,
                                            reason=reason).pk


async def test_fixed_panes_at_1920_with_50_alerts_waiting(page, asgi_server, people, agencies):
    await prepare_city(agencies)
    await alerts(people, 50)
    first = await incident(people)
    await incident(people, place=TOISON, title="Rixe Toison d'Or")
    await bollard_request(people, first.pk)
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await log_in(page, asgi_server, people["supervisor"])
    await page.locator("#alert-inbox li[data-alert-id]").nth(49).wait_for(state="attached")
    await page.locator("#command-approvals li").first.wait_for()

    # The top bar counts what waits.
    assert await page.locator("#count-alerts").inner_text() == "50"
    assert await page.locator("#count-incidents").inner_text() == "2"
    assert await page.locator("#count-approvals").inner_text() == "1"

    # The page itself does not scroll; the approvals and the open incidents are in full view.
    sizes = await page.evaluate("""() => ({
        page: document.scrollingElement.scrollHeight, view: window.innerHeight,
        inbox: [document.querySelector('#pane-inbox .pane-body').scrollHeight,
                document.querySelector('#pane-inbox .pane-body').clientHeight]})""")
    assert sizes["page"] <= sizes["view"], sizes
    assert sizes["inbox"][0] > sizes["inbox"][1]  # the inbox scrolls inside its own pane
    for pane in ("#pane-approvals", "#pane-incidents", "#pane-incident", "#pane-inbox"):
        box = await page.locator(pane).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 1080, (pane, box)
        assert box["height"] >= 150, (pane, box)
    assert await page.locator("#command-approvals li").first.is_visible()
    assert await page.locator(f'#incident-list [data-incident-id="{first.pk}"]').is_visible()

    # The approval says who asks, for which incident, what in words and why.
    approval = await page.locator("#command-approvals li").first.inner_text()
    assert "Borne rue de la Liberté — Abaisser la borne" in approval
    operator = people["operator"]
    assert (operator.get_full_name() or operator.username) in approval
    assert first.reference in approval and "Rixe devant la gare" in approval
    assert "Passage des pompiers" in approval

    # Scrolling the inbox to its end moves nothing else.
    before = await page.locator("#pane-approvals").bounding_box()
    await page.locator("#alert-inbox li[data-alert-id]").nth(49).scroll_into_view_if_needed()
    assert await page.locator("#pane-approvals").bounding_box() == before
    # Opening an incident fills its own pane; the others stay where they are.
    await page.locator(f'#incident-list [data-incident-id="{first.pk}"]').click()
    await page.locator("#incident-view .incident-head").wait_for()
    assert await page.locator("#pane-approvals").bounding_box() == before
    assert await page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
    await screenshot(page, "console-panes-1920")


async def test_a_new_approval_chimes_for_the_supervisor(page, asgi_server, people, agencies):
    await prepare_city(agencies)
    await page.add_init_script(COUNT_OSCILLATORS)
    await log_in(page, asgi_server, people["supervisor"])
    assert await page.locator("#count-approvals").inner_text() == "0"
    assert await page.locator("#approvals-empty").is_visible()

    await bollard_request(people)
    await page.locator("#command-approvals li").first.wait_for()
    await page.wait_for_function("() => document.getElementById('count-approvals').textContent === '1'")
    assert await page.evaluate("window.controlRoomConsole.chimes()") == 1
    assert await page.evaluate("window.__oscillators") >= 1
    assert await page.locator("#approvals-empty").is_hidden()


async def test_the_operator_is_told_why_a_command_was_refused(page, asgi_server, people,
                                                              agencies):
    await prepare_city(agencies)
    await log_in(page, asgi_server, people["operator"])
    command = await bollard_request(people)

    @database_sync_to_async
    def refuse():
        from devices.models import Command
        from devices.services import commands as command_services

        command_services.command_reject(command=Command.objects.get(pk=command),
                                        by=people["supervisor"], reason="Marché en cours")

    await refuse()
    notice = page.locator(".notice.refused")
    await notice.wait_for()
    text = await notice.inner_text()
    assert "Borne rue de la Liberté" in text and "Abaisser la borne" in text
    assert "Marché en cours" in text
    supervisor = people["supervisor"]
    assert (supervisor.get_full_name() or supervisor.username) in text
    await notice.get_by_role("button").click()
    await notice.wait_for(state="detached")


async def open_from_map(page, incident_id):
    """Open an incident from its popup on the map (asked again while the map still moves)."""
    link = f'.leaflet-popup a[data-incident="{incident_id}"]'
    await page.wait_for_function(
        f"""() => document.querySelector('{link}')
            || (window.controlRoomConsole.openPopup('incident-{incident_id}') && false)""",
        polling=700)
    await page.locator(link).click()


async def test_buttons_that_can_only_fail_are_not_shown(page, asgi_server, people, agencies):
    await prepare_city(agencies)
    fire = await incident(people, category="incendie", place=DARCY, title="Feu place Darcy")

    @database_sync_to_async
    def resolved():
        from incidents.services.incidents import incident_transition

        done = incident_transition(incident=incident_sync(people), to="acknowledged",
                                   by=people["operator"])
        return incident_transition(incident=done, to="resolved", by=people["operator"])

    def incident_sync(people):
        from incidents.models import Category
        from incidents.services.incidents import incident_create

        return incident_create(by=people["operator"], category=Category.objects.get(code="rixe"),
                               title="Rixe réglée", lat=GARE[0], lon=GARE[1])

    settled = await resolved()
    await log_in(page, asgi_server, people["operator"])
    await page.locator(f'#incident-list [data-incident-id="{fire.pk}"]').click()
    mandatory = page.locator('.step[data-step-key="codis"]')
    optional = page.locator('.step[data-step-key="panneau"]')
    await mandatory.wait_for()
    assert await mandatory.get_by_role("button", name="Fait").count() == 1
    assert await mandatory.get_by_role("button", name="Passer").count() == 0
    assert await optional.get_by_role("button", name="Passer").count() == 1

    # A resolved incident: closing it is a supervisor's decision.
    # Resolved, it has left the list of open incidents: it is opened from the map.
    await open_from_map(page, settled.pk)
    await page.wait_for_selector(f'#incident-view[data-incident-id="{settled.pk}"]')
    await page.locator("#incident-view .incident-head").wait_for()
    assert await page.locator("#incident-view .transitions button", has_text="Clore").count() == 0

    other = await page.context.browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    supervisor = await other.new_page()
    await log_in(supervisor, asgi_server, people["supervisor"])
    await open_from_map(supervisor, settled.pk)
    await supervisor.locator("#incident-view .transitions button", has_text="Clore").wait_for()
    await supervisor.locator(f'#incident-list [data-incident-id="{fire.pk}"]').click()
    await supervisor.locator('.step[data-step-key="codis"]').get_by_role(
        "button", name="Passer").wait_for()
    await other.close()


async def test_escape_closes_the_help_and_the_dismiss_form(page, asgi_server, people, agencies):
    await prepare_city(agencies)
    [alert] = await alerts(people, 1, prefix="esc")
    await log_in(page, asgi_server, people["operator"])
    item = page.locator(f'#alert-inbox [data-alert-id="{alert}"]')
    await item.wait_for()

    await page.keyboard.press("?")
    await page.locator("#help-dialog[open]").wait_for()
    await page.keyboard.press("Escape")
    await page.locator("#help-dialog[open]").wait_for(state="detached")

    await item.get_by_role("button", name="Écarter").click()
    await item.locator("select[name=reason]").wait_for()
    await page.keyboard.press("Escape")  # focus is in the form's select
    await item.locator("form").wait_for(state="detached")
    await item.get_by_role("button", name="Écarter").click()
    await item.locator("input[name=note]").click()
    await page.keyboard.press("Escape")
    await item.locator("form").wait_for(state="detached")
    assert await item.count() == 1  # nothing was dismissed


async def test_arrival_estimate_goes_once_on_scene(page, asgi_server, people, agencies):
    await prepare_city(agencies)
    fight = await incident(people, place=REPUBLIQUE)

    @database_sync_to_async
    def dispatch():
        from incidents.models import Unit
        from incidents.services import units as unit_services

        unit = Unit.objects.create(call_sign="PM-07", kind="patrol_car", agency=agencies["pm"])
        unit.set_point(*GARE)
        unit.save()
        unit_services.unit_assign(incident=fight, unit=unit, by=people["operator"])
        return unit

    unit = await dispatch()
    await log_in(page, asgi_server, people["operator"])
    await page.locator(f'#incident-list [data-incident-id="{fight.pk}"]').click()
    engaged = page.locator(f'#incident-view .engaged [data-unit="{unit.pk}"]')
    await engaged.wait_for()
    assert "arrivée" in await engaged.inner_text()

    @database_sync_to_async
    def arrive():
        from incidents.services import units as unit_services

        unit_services.unit_status_set(unit=unit, status="on_scene", by=people["operator"])

    await arrive()
    await page.locator(f'#incident-view .engaged [data-unit="{unit.pk}"]',
                       has_text="sur place").wait_for()
    assert "arrivée" not in await page.locator(
        f'#incident-view .engaged [data-unit="{unit.pk}"]').inner_text()


async def test_escalated_shows_only_on_escalated_alerts(page, asgi_server, people, agencies):
    from django.utils import timezone

    await prepare_city(agencies)
    [late] = await alerts(people, 1, prefix="late")

    @database_sync_to_async
    def escalate():
        from incidents.services import alerts as alert_services

        return alert_services.alerts_escalate_overdue(now=timezone.now() + timedelta(hours=1))

    assert await escalate() == 1
    [fresh] = await alerts(people, 1, prefix="fresh", place=GARE)
    await log_in(page, asgi_server, people["operator"])
    late_item = page.locator(f'#alert-inbox [data-alert-id="{late}"]')
    fresh_item = page.locator(f'#alert-inbox [data-alert-id="{fresh}"]')
    await late_item.locator(".escalated-badge", has_text="remontée").wait_for()
    await fresh_item.wait_for()
    assert await fresh_item.locator(".escalated-badge").count() == 0
    # Acknowledged, it is handled: no longer waiting for the supervisors.
    await late_item.get_by_role("button", name="Acquitter").click()
    await page.wait_for_selector(f'#alert-inbox [data-alert-id="{late}"].status-acknowledged')
    assert await late_item.locator(".escalated-badge").count() == 0


async def test_map_clusters_legend_and_street_plan(page, asgi_server, people, agencies):
    await prepare_city(agencies)
    mixed = await alerts(people, 3, prefix="mix", place=REPUBLIQUE, severity=3)
    mixed += await alerts(people, 1, prefix="grave", place=REPUBLIQUE, severity=1,
                          category="rixe")
    calm = await alerts(people, 3, prefix="calm", place=TOISON, severity=3)
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await log_in(page, asgi_server, people["operator"])
    for alert in mixed + calm:
        await page.wait_for_function(f"() => window.controlRoomConsole.hasFeature('alert-{alert}')")

    # Clusters take the colour of the worst priority they hold.
    mixed_class = await page.evaluate(f"window.controlRoomConsole.clusterClass('alert', 'alert-{mixed[0]}')")
    calm_class = await page.evaluate(f"window.controlRoomConsole.clusterClass('alert', 'alert-{calm[0]}')")
    assert "priority-1" in mixed_class, mixed_class
    assert "priority-3" in calm_class, calm_class

    legend = page.locator("#map-legend")
    assert await legend.is_visible()
    text = await legend.inner_text()
    assert "Légende" in text and "critique" in text and "priorité la plus grave" in text

    # No tile server: the demo city's streets and places, named at street level.
    await page.evaluate(f"window.controlRoomConsole.focus({DARCY[0]}, {DARCY[1]}, 17)")
    await page.locator(".street-label", has_text="Rue de la Liberté").wait_for()
    await page.locator(".place-label", has_text="Place Darcy").wait_for()
    assert await page.locator("path.street").count() >= 20
    await screenshot(page, "console-street-plan")
    await page.evaluate(f"window.controlRoomConsole.focus({DARCY[0]}, {DARCY[1]}, 13)")
    await page.locator(".street-label").first.wait_for(state="detached")


async def test_a_citizen_confirms_before_erasing_their_contact(page, asgi_server, people,
                                                               agencies):
    @database_sync_to_async
    def report():
        from citizens import services
        from citizens.catalogue import services_ensure_defaults
        from citizens.models import Service
        from tests.citizens.conftest import submit

        services_ensure_defaults()
        return submit(Service.objects.get(code="eclairage-public"),
                      description="Lampadaire éteint.",
                      contact=services.Contact(email="riverain@example.org"), consent=True)

    await prepare_city(agencies)
    filed = await report()
    await page.goto(f"{asgi_server.url}/signaler/suivi/{filed.code}/")
    await page.get_by_role("button", name="Effacer mes coordonnées").click()
    confirm = page.locator("#confirm-erase")
    await confirm.wait_for()
    assert "irréversible" in await confirm.inner_text()
    await confirm.get_by_role("link", name="Non, les garder").click()
    await page.get_by_role("button", name="Effacer mes coordonnées").click()
    await page.get_by_role("button", name="Oui, effacer mes coordonnées").click()
    await page.get_by_text("Vos coordonnées ont été effacées").first.wait_for()
