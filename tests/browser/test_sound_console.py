"""Sound alerts in the console, in headless Chromium: a shot heard by six sensors arrives in the
inbox, is located (its uncertainty circle drawn on the map, live), and its incident lists the
nearest cameras to look through."""

import math

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import log_in, prepare_city, screenshot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

LIBERATION = (47.3214, 5.0412)
ARRAY = [(120, 20), (-150, 40), (10, -240), (30, 230), (190, -160), (-120, 280)]


@database_sync_to_async
def sensors_and_camera():
    from controlroom.selectors import sector_at
    from devices.acoustics.locate import LocalPlane
    from devices.models import Device, SoundSensor
    from video.models import Camera

    plane = LocalPlane(*LIBERATION)
    sensors = []
    for number, (north, east) in enumerate(ARRAY):
        lat, lon = plane.to_latlon(east, north)
        device = Device(code=f"son-{number}", name=f"Capteur {number}", kind="sound_sensor",
                        address=f"son-{number}")
        device.set_point(lat, lon)
        device.sector = sector_at(lat=lat, lon=lon)
        device.save()
        sensors.append(SoundSensor.objects.create(device=device, stream_url="/x.wav",
                                                  purpose="Détonations"))
    camera = Camera(code="cam-liberation", name="Caméra place de la Libération",
                    stream_url="rtsp://10.0.0.9/lib", online=True)
    camera.set_point(LIBERATION[0] + 0.0004, LIBERATION[1])
    camera.save()
    return plane, sensors


@database_sync_to_async
def shot(plane, sensors, heard=None):
    from django.utils import timezone

    from devices.acoustics.types import SoundEvent
    from devices.services import sound

    t0 = timezone.now().timestamp() - 2
    alert_id = None
    for sensor in sensors[:heard]:
        x, y = plane.to_xy(sensor.device.lat, sensor.device.lon)
        t = t0 + math.hypot(x - 15, y + 20) / 343.0
        recorded = sound.event_record(sensor=sensor, event=SoundEvent(
            kind="detonation", start=t, end=t + 0.3, confidence=0.93, peak_db=104.0,
            laeq_db=88.0, bands={1000: 90.0}))
        alert_id = recorded.alert_id
    return alert_id


async def test_a_located_shot_in_the_inbox_on_the_map_and_its_nearest_cameras(
        chromium, page, asgi_server, people, agencies):
    await prepare_city(agencies)
    plane, sensors = await sensors_and_camera()
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await log_in(page, asgi_server, people["operator"])

    # Two sensors: an alert, not yet located.
    alert_id = await shot(plane, sensors, heard=2)
    item = page.locator(f'#alert-inbox li[data-alert-id="{alert_id}"]')
    await item.locator(".sound-evidence", has_text="Détonation").wait_for()
    assert await page.evaluate(f"window.controlRoomConsole.soundArea({alert_id})") is None

    # Six sensors (a new shot): located, the circle drawn where it came from.
    alert_id = await shot(plane, sensors)
    item = page.locator(f'#alert-inbox li[data-alert-id="{alert_id}"]')
    await item.locator("[data-located]", has_text="Localisé par").wait_for()
    await page.wait_for_function(f"() => window.controlRoomConsole.soundArea({alert_id}) !== null")
    area = await page.evaluate(f"window.controlRoomConsole.soundArea({alert_id})")
    x, y = plane.to_xy(area["lat"], area["lng"])
    assert math.hypot(x - 15, y + 20) < 5 and 0 < area["radius"] < 15
    await screenshot(page, "sound-located")

    # The incident opened from it suggests the camera nearby.
    await item.get_by_role("button", name="Ouvrir un incident").click()
    cameras = page.locator("#incident-view .near-cameras")
    await cameras.locator("li", has_text="Caméra place de la Libération").wait_for()
    assert "Voir le direct" in await cameras.inner_text()
