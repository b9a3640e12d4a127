"""axe-core on the pages people use all night: the operator console, the citizen form on a
phone, the observatory and the admin. No serious or critical violation."""

import pytest
from channels.db import database_sync_to_async

from tests.browser.axe import axe_violations
from tests.browser.test_console import log_in, prepare_city
from tests.browser.test_observatory import a_history
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def catalogue():
    from citizens.catalogue import services_ensure_defaults

    services_ensure_defaults()


@database_sync_to_async
def superuser():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username="root-a11y").first()
    return user or get_user_model().objects.create_superuser("root-a11y", password=PASSWORD)


async def sign_in(page, server, username, path):
    await page.goto(f"{server.url}/connexion/?next={path}")
    await page.get_by_label("Identifiant").fill(username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(f"{server.url}{path}")


async def test_the_console_has_no_serious_violation(chromium, page, asgi_server, people,
                                                    agencies):
    await prepare_city(agencies)
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await log_in(page, asgi_server, people["operator"])

    assert await axe_violations(page) == []


async def test_the_citizen_form_has_no_serious_violation(chromium, page, asgi_server, agencies):
    await prepare_city(agencies)
    await catalogue()
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{asgi_server.url}/signaler/")
    assert await axe_violations(page) == []
    await page.goto(f"{asgi_server.url}/signaler/eclairage-public/")
    await page.wait_for_selector("#report-map[data-ready='1']")
    assert await axe_violations(page) == []
    # Refused (no place): the page with its errors too.
    await page.get_by_role("button", name="Envoyer le signalement").click()
    await page.get_by_text("Indiquez le lieu du problème sur la carte").wait_for()
    assert await axe_violations(page) == []


async def test_the_observatory_has_no_serious_violation(chromium, page, asgi_server, agencies):
    await prepare_city(agencies)
    analyst = await a_history(agencies)
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await sign_in(page, asgi_server, analyst.username, "/observatoire/")
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)

    assert await axe_violations(page) == []


@pytest.mark.parametrize("path", [
    "/admin/", "/admin/video/camera/add/", "/admin/devices/device/add/",
    "/admin/incidents/proceduretemplate/add/",
])
async def test_admin_pages_have_no_serious_violation(chromium, page, asgi_server, agencies,
                                                     path):
    await prepare_city(agencies)
    root = await superuser()
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await sign_in(page, asgi_server, root.username, path)

    assert await axe_violations(page) == []


async def test_axe_does_find_a_violation(chromium, page, asgi_server, agencies):
    """The check itself: an image button without a name is a critical violation."""
    await prepare_city(agencies)
    await page.goto(f"{asgi_server.url}/signaler/")
    await page.evaluate("""() => {
        const button = document.createElement("button");
        button.append(document.createElement("img"));
        document.querySelector("main").append(button);
    }""")

    assert "button-name" in [v["id"] for v in await axe_violations(page)]
