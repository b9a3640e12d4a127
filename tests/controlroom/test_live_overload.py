"""A console that falls behind is told to resynchronise, and catches up from the journal.

The server keeps at most ``LIVE_OUTBOX_LIMIT`` messages for a socket; past that it drops them,
says "resync" and closes, and the console comes back with ``?after=`` its last event: it ends with
every event exactly once, in order, while the consoles that kept up never noticed.
"""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from controlroom import consumers, live_fanout
from tests.controlroom.live_clients import Console, open_socket
from tests.controlroom.test_live import record

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_console_that_falls_behind_resyncs_and_ends_with_every_event_once(
    people, agencies, settings, monkeypatch
):
    settings.LIVE_OUTBOX_LIMIT = 20
    # The slow one is alone in its scope (a liaison's agency), the first the hub serves: the hub
    # drops that scope with it while going through its scopes.
    slow_user = people["liaison_pn"]
    slow, connected, _ = await open_socket(slow_user)
    assert connected
    ready = await slow.receive_json_from(timeout=10)
    assert ready["kind"] == "ready"
    fast = await Console(people["operator"]).connect()

    # The liaison's socket stops draining (a slow link): its sends wait.
    gate = asyncio.Event()
    send = consumers.LiveConsumer.send

    async def stalled_send(self, text_data=None, **kwargs):
        if (self.viewer.user_id == slow_user.pk and not gate.is_set()
                and '"resync"' not in (text_data or "")):
            await gate.wait()
        return await send(self, text_data=text_data, **kwargs)

    monkeypatch.setattr(consumers.LiveConsumer, "send", stalled_send)
    seqs = await record(30, agencies=[agencies["pn"].pk])

    # Past the bound: told to resynchronise, then closed; nothing else was kept for it.
    message = await slow.receive_json_from(timeout=10)
    while message["kind"] == "heartbeat":
        message = await slow.receive_json_from(timeout=10)
    assert message == {"kind": "resync"}
    closed = await slow.receive_output(timeout=10)
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_RESYNC}
    hub = await live_fanout.hub()
    assert hub.count == 1  # only the console that kept up is fed

    # It comes back after the last event it had, as live.js does, and catches up exactly once.
    monkeypatch.undo()
    back = Console(slow_user)
    back.last_seq = ready["seq"]
    await back.connect()
    await back.run_until(seqs[-1])
    assert [e["seq"] for e in back.events] == seqs

    await fast.run_until(seqs[-1])
    assert [e["seq"] for e in fast.events] == seqs
    assert fast.fetches == 0  # all came down its socket: the hub kept serving the others
    await fast.disconnect()
    await back.disconnect()


async def test_events_within_the_coalescing_window_travel_in_one_frame(people, settings):
    settings.LIVE_COALESCE_SECONDS = 0.2
    socket, connected, _ = await open_socket(people["operator"])
    assert connected
    await socket.receive_json_from(timeout=10)

    @database_sync_to_async
    def record_together(n):
        from django.db import transaction

        from controlroom import journal

        with transaction.atomic():
            return [journal.record(type="test.happened", actor="system:test",
                                   payload={"i": i}).seq for i in range(n)]

    seqs = await record_together(3)
    frame = json.loads(await socket.receive_from(timeout=5))
    assert frame["kind"] == "batch"
    assert [m["seq"] for m in frame["messages"] if m["kind"] == "event"] == seqs
    await socket.disconnect()
