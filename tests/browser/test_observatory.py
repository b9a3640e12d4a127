"""The observatory's dashboard in headless Chromium: it draws its charts and maps."""

import pytest
from channels.db import database_sync_to_async

from tests.browser.test_console import prepare_city, screenshot
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


@database_sync_to_async
def a_history(agencies):
    from datetime import timedelta

    from django.utils import timezone

    from controlroom import services as config
    from demo.city import DIJON_OUTLINE
    from observatory import services

    services.synthetic_history_load(outline=[(lat, lon) for lon, lat in DIJON_OUTLINE],
                                    seed=3, days=140, end=timezone.now() - timedelta(hours=1))
    services.forecast_refresh()
    return config.user_ensure(username="ana", password=PASSWORD, role="analyst",
                              agency=agencies["pm"])


async def test_the_dashboard_draws_its_figures(chromium, page, asgi_server, agencies):
    await prepare_city(agencies)
    analyst = await a_history(agencies)
    await page.goto(f"{asgi_server.url}/connexion/?next=/observatoire/")
    await page.get_by_label("Identifiant").fill(analyst.username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    assert await page.locator("#table-categories tr").count() > 3
    assert await page.locator("#hour-of-week td").count() == 7 * 24
    assert await page.locator("#heatmap path.leaflet-interactive").count() > 50
    assert await page.locator("#forecast-map path.leaflet-interactive").count() > 50
    # The heat map's own category selector redraws it for one category.
    hexes = await page.locator("#heatmap path.leaflet-interactive").count()
    await page.get_by_label("Catégorie affichée").select_option("rixe")
    await page.wait_for_selector("body[data-heatmap-category='rixe']", state="attached")
    assert 0 < await page.locator("#heatmap path.leaflet-interactive").count() <= hexes
    label = await page.locator("#forecast-label").inner_text()
    assert "PAI" in label and "semaines mises de côté" in label
    await screenshot(page, "observatory")
