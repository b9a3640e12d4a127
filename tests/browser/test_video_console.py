"""Cameras in the console, in headless Chromium: a camera alert with its blurred evidence, the
unblurred view for a supervisor with a reason, a camera sent to a wall screen from its popup,
and the screen's page switching live to the camera routed to it."""

import numpy as np
import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import log_in, prepare_city, screenshot
from tests.incidents.conftest import DARCY

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def make_cameras_and_screen():
    from video.models import Camera, Screen

    cameras = {}
    for code, name, north in (("cam-darcy", "Caméra place Darcy", 0.0), ("cam-gare",
                                                                         "Caméra de la gare", 0.001)):
        camera = Camera(code=code, name=name, stream_url=f"rtsp://10.0.0.9/{code}", online=True,
                        analytics={"intrusion": {}}, detector=Camera.Detector.MOTION)
        camera.set_point(DARCY[0] + north, DARCY[1])
        camera.save()
        cameras[code] = camera
    screen = Screen.objects.create(code="mur-1", name="Mur d'images 1")
    return cameras, screen


@database_sync_to_async
def camera_alert(camera):
    """An intrusion seen by the camera, recorded as the workers do."""
    from django.utils import timezone

    from video import services
    from video.analytics.types import Box, Event

    frame = np.full((360, 640, 3), 120, np.uint8)
    frame[200:300, 300:340] = 30
    event = Event(rule="intrusion", zone="voies", confidence=0.9, t=1.0,
                  wall_time=timezone.now(), box=Box(300, 200, 40, 100))
    return services.event_record(camera=camera, event=event, frame=frame,
                                 persons=[Box(300, 200, 40, 100)], key="browser-test-1")


def publish_frame(camera, grey):
    from video import live

    live.publish(camera.pk, live.encode(np.full((360, 640, 3), grey, np.uint8)))


@database_sync_to_async
def route(screen, camera, user):
    from video import services

    services.screen_route(screen=screen, camera=camera, by=user)


@database_sync_to_async
def journal_types():
    from controlroom.models import Event

    return list(Event.objects.order_by("seq").values_list("type", flat=True))


async def test_camera_evidence_unblurred_view_and_wall_screen(chromium, page, asgi_server,
                                                              people, agencies, settings):
    settings.MEDIA_ROOT = asgi_server.config["media_root"]  # snapshots where the server reads
    await prepare_city(agencies)
    cameras, screen = await make_cameras_and_screen()
    darcy, gare = cameras["cam-darcy"], cameras["cam-gare"]
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await log_in(page, asgi_server, people["operator"])

    # 1. A camera alert arrives live, with its blurred snapshot in the inbox.
    recorded = await camera_alert(darcy)
    item = page.locator(f'#alert-inbox li[data-alert-id="{recorded.alert_id}"]')
    await item.wait_for()
    image = item.locator(".evidence img")
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth === 640", arg=await image.element_handle())
    # Operators have no unblurred view.
    assert await item.locator("button[data-unblur]").count() == 0

    # 2. From the camera's popup: the live view's link, and the camera sent to the wall screen.
    await page.evaluate("window.controlRoomConsole.openPopup('camera-%d')" % darcy.pk)
    popup = page.locator(".leaflet-popup .camera-popup")
    await popup.wait_for()
    assert await popup.locator("[data-live-link]").get_attribute("href") == \
        f"/video/cameras/{darcy.pk}/direct/"
    await popup.locator("select[data-route-screen]").select_option(label="Mur d'images 1")
    await popup.get_by_role("button", name="Afficher sur l'écran").click()
    await popup.get_by_role("button", name="Affichée").wait_for()

    # 3. The screen's page shows the camera's (masked) frames, and switches when another camera
    #    is routed to it, without reloading.
    wall = await page.context.new_page()
    await wall.goto(f"{asgi_server.url}/video/ecrans/mur-1/")
    publish_frame(darcy, 200)
    publish_frame(gare, 60)
    await wall.locator("[data-camera-name]", has_text="Caméra place Darcy").wait_for()
    await wall.locator("main[data-state='live'] img").wait_for()
    await route(screen, gare, people["operator"])
    publish_frame(gare, 60)
    await wall.locator("[data-camera-name]", has_text="Caméra de la gare").wait_for()
    await screenshot(wall, "wall-screen")
    await wall.close()
    types = await journal_types()
    assert types.count("screen.routed") == 2 and "screen.viewed" in types

    # 4. A supervisor sees the unblurred image, after giving a reason.
    await page.context.clear_cookies()
    await log_in(page, asgi_server, people["supervisor"])
    item = page.locator(f'#alert-inbox li[data-alert-id="{recorded.alert_id}"]')
    await item.wait_for()
    await item.locator("button[data-unblur]").click()
    reason = page.locator("dialog.ask.reason[open]")
    await reason.locator("textarea").fill("Réquisition OPJ 2026-42")
    await reason.get_by_role("button", name="Valider").click()
    unblurred = page.locator("dialog.unblurred img")
    await unblurred.wait_for()
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth === 640", arg=await unblurred.element_handle())
    await screenshot(page, "unblurred-view")
    assert "video.snapshot_unblurred" in await journal_types()


@database_sync_to_async
def camera_shapes(pk):
    from video.models import Camera

    camera = Camera.objects.get(pk=pk)
    return camera.zones, camera.masks


async def test_zones_and_masks_are_drawn_over_the_camera_image_in_the_admin(
        chromium, page, asgi_server, people, agencies):
    from tests.conftest import PASSWORD

    await prepare_city(agencies)
    cameras, _screen = await make_cameras_and_screen()
    darcy = cameras["cam-darcy"]
    publish_frame(darcy, 150)
    await page.set_viewport_size({"width": 1400, "height": 1200})
    await page.goto(f"{asgi_server.url}/connexion/?next=/admin/video/camera/{darcy.pk}/change/")
    await page.get_by_label("Identifiant").fill(people["administrator"].username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    editor = page.locator("[data-editor]")
    await editor.locator("img").wait_for()  # the camera's latest (masked) frame
    canvas = editor.locator("canvas")
    await screenshot(page, "camera-editor")
    # In the middle of the window: the admin's sticky rows cover the edges of the viewport.
    await canvas.evaluate("(c) => c.scrollIntoView({block: 'center'})")

    async def shape(kind, points, name=""):
        await page.locator("[data-editor-kind]").select_option(kind)
        if name:
            await page.locator("[data-editor-name]").fill(name)
        for x, y in points:
            await canvas.click(position={"x": x, "y": y})
        await page.get_by_role("button", name="Terminer la forme").click()

    await shape("mask", [(480, 20), (620, 20), (620, 120)])
    await shape("zone", [(320, 180), (636, 180), (636, 356), (330, 350)], name="parvis")
    await shape("line", [(0, 200), (100, 200)])  # a line needs a name
    assert "nom" in await page.locator("[data-editor-message]").inner_text()
    await page.locator("[data-editor-name]").fill("passage")
    await page.get_by_role("button", name="Terminer la forme").click()
    # The intrusion analysis needs a zone: the one just drawn, named in its folded group.
    await page.locator("details:has(#id_intrusion__zones) > summary").click()
    assert await page.locator("#id_intrusion__on").is_checked()
    await page.locator("#id_intrusion__zones").fill("parvis")
    await page.get_by_role("button", name="Enregistrer", exact=True).click()
    await page.wait_for_load_state()
    errors = await page.locator(".errorlist, .errornote").all_inner_texts()
    assert errors == []
    await page.wait_for_url(f"{asgi_server.url}/admin/video/camera/")

    zones, masks = await camera_shapes(darcy.pk)
    def near(points, expected):  # proportions of the image, to a pixel or so
        return len(points) == len(expected) and all(
            abs(a - b) < 0.006 for p, q in zip(points, expected) for a, b in zip(p, q))

    (mask,) = masks
    assert near(mask, [(480 / 640, 20 / 360), (620 / 640, 20 / 360), (620 / 640, 120 / 360)])
    assert [(z["name"], z["kind"], len(z["points"])) for z in zones] == [
        ("parvis", "zone", 4), ("passage", "line", 2)]
    assert near(zones[1]["points"], [(0, 200 / 360), (100 / 640, 200 / 360)])


@database_sync_to_async
def request_and_refuse(screen, camera, operator, supervisor):
    """An operator asks for a sensitive camera on a wall screen; a supervisor refuses."""
    from video import services

    routing = services.screen_route(screen=screen, camera=camera, by=operator,
                                    reason="Suivi du rassemblement")
    services.routing_decide(routing=routing, by=supervisor, approve=False,
                            note="Pas de motif suffisant")


async def test_an_operator_is_told_why_their_camera_request_was_refused(page, asgi_server,
                                                                         people, agencies):
    await prepare_city(agencies)
    cameras, screen = await make_cameras_and_screen()
    courtyard = cameras["cam-gare"]

    @database_sync_to_async
    def make_sensitive():
        courtyard.sensitive = True
        courtyard.save(update_fields=["sensitive"])

    await make_sensitive()
    await log_in(page, asgi_server, people["operator"])
    await request_and_refuse(screen, courtyard, people["operator"], people["supervisor"])
    notice = page.locator(".notice.refused")
    await notice.wait_for()
    text = await notice.inner_text()
    assert "Caméra de la gare" in text and "Mur d'images 1" in text
    assert "Pas de motif suffisant" in text
