"""An exercise seen from the console in headless Chromium: the EXERCICE banner appears when the
trainer starts it, its alerts carry a badge, and its incident says it is fictitious."""

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import log_in, prepare_city, screenshot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def start_exercise(people):
    from incidents.services import exercises

    return exercises.exercise_start(by=people["supervisor"], scenario="nuit-festive")


async def test_an_exercise_is_unmistakable_on_the_console(page, asgi_server, people, agencies):
    await prepare_city(agencies)
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await log_in(page, asgi_server, people["operator"])
    banner = page.locator("#exercise-banner")
    assert await banner.is_hidden()

    exercise = await start_exercise(people)
    await banner.wait_for(state="visible")
    assert "EXERCICE EN COURS" in await banner.inner_text()
    assert exercise.name in await banner.inner_text()
    item = page.locator("#alert-inbox li", has_text="Exercice — rassemblement")
    await item.wait_for()
    assert "EXERCICE" in await item.locator(".badge.exercise").inner_text()

    await item.get_by_role("button", name="Acquitter").click()
    await page.wait_for_selector("#alert-inbox li.status-acknowledged")
    await page.locator("#alert-inbox li", has_text="Exercice — rassemblement").get_by_role(
        "button", name="Ouvrir un incident").click()
    note = page.locator("#incident-view .exercise-banner")
    await note.wait_for()
    assert "incident fictif" in await note.inner_text()
    await screenshot(page, "console-exercise")


@database_sync_to_async
def play_all(exercise) -> list[str]:
    """Play every step of the exercise; the map features of its alerts and units."""
    from datetime import timedelta

    from incidents.models import Alert, Unit
    from incidents.services import exercises

    last = max(step["at"] for step in exercise.steps)
    exercises.exercise_advance(exercise=exercise,
                               now=exercise.started_at + timedelta(seconds=last + 1))
    return ([f"alert-{pk}" for pk in Alert.objects.filter(exercise=exercise, status="new")
             .values_list("pk", flat=True)]
            + [f"unit-{pk}" for pk in Unit.objects.filter(exercise=exercise)
               .values_list("pk", flat=True)])


@database_sync_to_async
def finish_and_purge(exercise, people):
    from incidents.services import exercises

    exercises.exercise_finish(exercise=exercise, by=people["supervisor"])
    exercises.exercise_purge(exercise=exercise, by=people["supervisor"])


async def test_a_purged_exercise_leaves_the_inbox_and_the_map(page, asgi_server, people,
                                                              agencies):
    await prepare_city(agencies)
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await log_in(page, asgi_server, people["operator"])
    exercise = await start_exercise(people)
    features = await play_all(exercise)
    badges = "document.querySelectorAll('#alert-inbox li .badge.exercise').length"
    shown = " && ".join(f"window.controlRoomConsole.hasFeature('{f}')" for f in features)
    await page.wait_for_function(f"() => {badges} >= 2 && {shown}")
    await finish_and_purge(exercise, people)
    gone = " && ".join(f"!window.controlRoomConsole.hasFeature('{f}')" for f in features)
    await page.wait_for_function(f"() => {badges} === 0 && {gone}")
