"""The API's browsable docs work under the Content-Security-Policy (no inline script)."""

import pytest
from channels.db import database_sync_to_async

from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]


async def test_the_api_docs_render_their_operations(chromium, page, asgi_server, agencies):
    from controlroom import services

    operator = await database_sync_to_async(services.user_ensure)(
        username="doc", password=PASSWORD, role="operator", agency=agencies["pm"])
    await page.goto(f"{asgi_server.url}/connexion/?next=/api/docs/")
    await page.get_by_label("Identifiant").fill(operator.username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert await page.locator(".swagger-ui .opblock").count() > 20
