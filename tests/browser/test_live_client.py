"""The live journal client (static/controlroom/js/live.js) on the home page, in headless Chromium.

Events are recorded in this process. On Redis they are pushed to the server process and down
the socket; with the in-memory channel layer no push crosses processes, so the server's hub finds
them in the journal when its head moves and sends them down the socket all the same.
"""

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from controlroom import journal
from tests import event_types  # noqa: F401 - declares the test.* event types
from tests.browser.conftest import HEARTBEAT_SECONDS
from tests.conftest import PASSWORD
from tests.controlroom.live_clients import messages_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),  # the loop the browser runs in
]

# When and where the page opens its sockets, timed in the page: Playwright reports events late
# when this process is busy, which would blur the backoff.
SOCKET_LOG = """
(() => {
  const Native = window.WebSocket;
  window.openedSockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.openedSockets.push({ url: String(args[0]), at: performance.now() });
    }
  };
})();
"""


@database_sync_to_async
def record(n=1):
    """Journal events, each in its own committed transaction, as services write them."""
    seqs = []
    for i in range(n):
        with transaction.atomic():
            event = journal.record(type="test.happened", actor="system:test", payload={"i": i})
        seqs.append(event.seq)
    return seqs


head_seq = database_sync_to_async(journal.head_seq)


class Console:
    """What the page shows, and what went over the wire to show it."""

    def __init__(self, page):
        self.page = page
        self.pushed = []  # seqs of the events that came down a socket
        self.heartbeats = 0
        self.fills = []  # `after` of every events API request
        page.on("websocket", lambda socket: socket.on("framereceived", self._frame))
        page.on("request", self._request)

    def _frame(self, payload):
        for item in messages_of(payload):
            self._message(item)

    def _message(self, message):
        if message["kind"] == "event":
            self.pushed.append(message["seq"])
        elif message["kind"] == "heartbeat":
            self.heartbeats += 1

    def _request(self, request):
        url = urlsplit(request.url)
        if url.path == "/api/events/":
            self.fills.append(int(parse_qs(url.query).get("after", ["0"])[0]))

    async def log_in(self, server, user):
        """Through the French login page, to the home page with its stream connected."""
        page = self.page
        await page.add_init_script(SOCKET_LOG)
        await page.goto(f"{server.url}/connexion/")
        assert await page.locator("h1").inner_text() == "Connexion"
        await page.get_by_label("Identifiant").fill(user.username)
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url(f"{server.url}/")
        await self.wait_for_state("connected")
        assert await page.locator("#live-state").inner_text() == "connecté"

    async def wait_for_state(self, state):
        await self.page.wait_for_selector(f'#live-state[data-state="{state}"]', state="attached")

    async def wait_for(self, seq):
        """Until the feed shows ``seq``."""
        await self.page.wait_for_selector(f'#live-feed li[data-seq="{seq}"]', state="attached")

    async def settle(self):
        """Three more heartbeats: whatever was still to come (a duplicate, a fill) has come."""
        seen = self.heartbeats
        async with asyncio.timeout(30 * HEARTBEAT_SECONDS):
            while self.heartbeats < seen + 3:
                await asyncio.sleep(0.05)

    async def feed(self) -> list[int]:
        """The seqs on screen, in the order they arrived (the newest is at the top)."""
        items = await self.page.eval_on_selector_all(
            "#live-feed li", "items => items.map((item) => Number(item.dataset.seq))"
        )
        return items[::-1]

    async def last_seq(self):
        return await self.page.evaluate("window.liveStream.lastSeq")

    async def opened_sockets(self) -> list[dict]:
        return await self.page.evaluate("window.openedSockets")


async def test_recorded_events_reach_the_feed_once_and_in_order(page, asgi_server, people):
    console = Console(page)
    await console.log_in(asgi_server, people["operator"])

    seqs = await record(5)
    await console.wait_for(seqs[-1])
    await console.settle()

    assert await console.feed() == seqs
    assert await console.last_seq() == seqs[-1] == await head_seq()
    # Pushed (Redis) or found in the journal by the server's hub (in-memory layer), they all
    # came down the socket.
    assert console.pushed == seqs
    assert console.fills == []


async def test_the_console_reconnects_with_backoff_and_resumes_after_its_last_seq(
    page, asgi_server, people
):
    console = Console(page)
    await console.log_in(asgi_server, people["operator"])
    before = await record(2)
    await console.wait_for(before[-1])
    opened = len(await console.opened_sockets())

    await asyncio.to_thread(asgi_server.stop)
    await console.wait_for_state("reconnecting")
    missed = await record(3)
    # Let it try the stopped server twice before it comes back.
    await page.wait_for_function(f"() => window.openedSockets.length >= {opened + 2}")
    await asyncio.to_thread(asgi_server.start)

    await console.wait_for(missed[-1])
    await console.wait_for_state("connected")
    after = await record(1)
    await console.wait_for(after[-1])
    await console.settle()

    assert await console.feed() == before + missed + after
    assert await console.last_seq() == after[-1]
    # The missed events were replayed on the new socket, which asked for what followed `before`.
    assert set(missed) <= set(console.pushed)
    attempts = (await console.opened_sockets())[opened:]
    assert attempts[-1]["url"].endswith(f"/ws/live/?after={before[-1]}")
    # After the first retry, the console tries again every 1–2 s while the server is away (a
    # busy machine only makes the waits longer).
    waits = [(b["at"] - a["at"]) / 1000 for a, b in zip(attempts, attempts[1:])]
    assert len(waits) >= 2, waits
    assert all(wait >= 1.0 for wait in waits), waits


async def test_the_retry_delays_spread_then_back_off(page, asgi_server, people):
    """live.js's schedule: 0.5–2.5 s, then 1–2 s ten times, then exponential up to 15 s."""
    await Console(page).log_in(asgi_server, people["operator"])
    delays = await page.evaluate("""async () => {
        const { retryDelay } = await import("/static/controlroom/js/live.js");
        const at = (failures, r) => retryDelay(failures, () => r);
        return [0, 0.5, 1].map((r) => [0, 1, 10, 11, 12, 13, 20].map((n) => at(n, r)));
    }""")
    low, middle, high = delays
    assert low == [500, 1000, 1000, 3000, 6000, 11250, 11250]
    assert middle == [1500, 1500, 1500, 4000, 8000, 15000, 15000]
    assert high == [2500, 2000, 2000, 5000, 10000, 18750, 18750]


async def test_events_whose_push_was_lost_come_down_the_socket_from_the_journal(
    page, asgi_server, people, monkeypatch
):
    console = Console(page)
    await console.log_in(asgi_server, people["operator"])
    first = await record(1)
    await console.wait_for(first[-1])

    # A writer whose push never reaches the consoles (a full channel, a layer outage).
    with monkeypatch.context() as patch:
        patch.setattr(journal, "publish", lambda event: None)
        lost = await record(2)
    await console.wait_for(lost[-1])
    # The server saw the journal's head move and read the events once for all its consoles:
    # they came down the socket, and the page read nothing over HTTP.
    assert set(lost) <= set(console.pushed)
    assert console.fills == []

    later = await record(1)
    await console.wait_for(later[-1])
    await console.settle()

    assert await console.feed() == first + lost + later
    assert await console.last_seq() == later[-1]
    assert console.pushed == first + lost + later  # each once, in order
