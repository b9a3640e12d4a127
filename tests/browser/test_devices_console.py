"""Street devices in the console, in headless Chromium: a command from a device's popup, the
two-person rule live between an operator and a supervisor, a procedure step that proposes the
devices near the incident, and a population alert drafted by one and issued by the other."""

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import log_in, prepare_city, screenshot
from tests.incidents.conftest import DARCY

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def make_devices():
    from controlroom.selectors import sector_at
    from devices.models import Device

    made = {}
    for code, kind, north in (("lum-1", "street_light", 0.0002), ("lum-2", "street_light", -0.0002),
                              ("borne-1", "bollard", 0.0004)):
        device = Device(code=code, name=f"Équipement {code}", kind=kind, address=code)
        device.set_point(DARCY[0] + north, DARCY[1])
        device.sector = sector_at(lat=device.lat, lon=device.lon)
        device.save()
        made[code] = device
    from video.models import Camera

    camera = Camera(code="cam-darcy", name="Caméra place Darcy", stream_url="rtsp://10.0.0.1/s",
                    online=True, analytics={"density": {}})
    camera.set_point(*DARCY)
    camera.save()
    made["cam-darcy"] = camera
    return made


@database_sync_to_async
def commands():
    from devices.models import Command

    return list(Command.objects.order_by("pk").values_list("device__code", "action", "status",
                                                           "params"))


@database_sync_to_async
def fire_incident(people, priority=3):
    from incidents.models import Category
    from incidents.services.incidents import incident_create

    return incident_create(by=people["operator"], category=Category.objects.get(code="incendie"),
                           title=f"Feu place Darcy (P{priority})", lat=DARCY[0], lon=DARCY[1],
                           priority=priority).pk


@database_sync_to_async
def issued_identifiers():
    from devices.models import PopulationAlert

    return list(PopulationAlert.objects.filter(status="issued").values_list("identifier",
                                                                            flat=True))


async def test_commands_approvals_and_step_proposals(chromium, page, asgi_server, people,
                                                     agencies):
    await prepare_city(agencies)
    devices = await make_devices()
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await log_in(page, asgi_server, people["operator"])
    await page.wait_for_function("() => window.controlRoomConsole.hasFeature('device-%d')"
                                 % devices["lum-1"].pk)
    # Every layer of the console is drawn: the camera too, with its analytics in the popup.
    await page.evaluate("window.controlRoomConsole.openPopup('camera-%d')"
                        % devices["cam-darcy"].pk)
    await page.locator(".leaflet-popup", has_text="Densité excessive").wait_for()

    # 1. A street light commanded from its popup.
    await page.evaluate("window.controlRoomConsole.openPopup('device-%d')" % devices["lum-1"].pk)
    popup = page.locator(f'.device-popup[data-device-id="{devices["lum-1"].pk}"]')
    await popup.get_by_label("Action").select_option("set_level")
    await popup.get_by_label("niveau (%)").fill("30")
    await popup.get_by_role("button", name="Envoyer").click()
    await popup.locator(".last-command", has_text="Régler le niveau · demandée").wait_for()
    assert (await commands())[-1] == ("lum-1", "set_level", "requested", {"level": 30})
    await screenshot(page, "console-device-command")

    # 2. A critical command waits for a supervisor, who sees it live and approves it.
    supervisor_context = await chromium.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    supervisor = await supervisor_context.new_page()
    await log_in(supervisor, asgi_server, people["supervisor"])
    await page.evaluate("window.controlRoomConsole.openPopup('device-%d')" % devices["borne-1"].pk)
    bollard = page.locator(f'.device-popup[data-device-id="{devices["borne-1"].pk}"]')
    await bollard.get_by_label("Action").select_option("lower")
    # A critical command asks for its reason, which the supervisor will read.
    await bollard.get_by_label("Motif (obligatoire : un superviseur doit approuver)").fill(
        "Passage des pompiers")
    await bollard.get_by_role("button", name="Envoyer").click()
    waiting = supervisor.locator("#command-approvals li")
    await waiting.first.wait_for()
    shown = await waiting.first.inner_text()
    assert "Équipement borne-1 — Abaisser la borne" in shown
    assert "Passage des pompiers" in shown
    await screenshot(supervisor, "console-approvals")
    await waiting.first.get_by_role("button", name="Approuver").click()
    await supervisor.wait_for_selector("#command-approvals li", state="detached")
    assert (await commands())[-1][:3] == ("borne-1", "lower", "requested")

    # 3. The fire's procedure proposes the street lights near the incident.
    incident_id = await fire_incident(people)
    await page.locator(f'#incident-list [data-incident-id="{incident_id}"]').click()
    step = page.locator('.step[data-step-key="eclairage"]')
    await step.get_by_role("button", name="Proposer les équipements").click()
    proposal = step.locator(".device-proposal")
    await proposal.wait_for()
    assert "Équipement lum-1" in await proposal.inner_text()
    await proposal.get_by_role("button", name="Envoyer aux 2 équipements").click()
    await page.wait_for_selector('.step[data-step-key="eclairage"].status-done')
    assert [c[:2] for c in (await commands())[-2:]] == [("lum-1", "set_level"),
                                                        ("lum-2", "set_level")]

    # 4. A serious fire: the operator drafts the population alert from its step, the
    #    supervisor issues it from their console, and the step is done for both.
    serious = await fire_incident(people, priority=1)
    await page.locator(f'#incident-list [data-incident-id="{serious}"]').click()
    alert_step = page.locator('.step[data-step-key="alerte"]')
    await alert_step.get_by_role("button", name="Rédiger l'alerte").click()
    form = alert_step.locator(".population-form")
    await form.get_by_label("Titre (panneaux, notifications)").fill("Incendie : restez chez vous")
    await form.get_by_label("Description").fill("Fumées importantes place Darcy.")
    await form.get_by_label("Consignes").fill("Fermez portes et fenêtres.")
    await form.get_by_role("button", name="Enregistrer l'alerte").click()
    draft = supervisor.locator("#alert-drafts li", has_text="Incendie : restez chez vous")
    await draft.wait_for()
    # Who drafted it, for which incident, how serious in words.
    drafted = await draft.inner_text()
    operator = people["operator"]
    assert (operator.get_full_name() or operator.username) in drafted and "grave" in drafted
    await screenshot(supervisor, "console-population-alert-draft")
    await draft.get_by_role("button", name="Diffuser").click()
    # Issuing is confirmed first.
    confirm = supervisor.locator("dialog.ask.confirm[open]")
    assert "Incendie : restez chez vous" in await confirm.inner_text()
    await confirm.get_by_role("button", name="Diffuser").click()
    await supervisor.wait_for_selector("#alert-drafts li", state="detached")
    await page.wait_for_selector('.step[data-step-key="alerte"].status-done')
    assert await issued_identifiers() != []
    await supervisor_context.close()
