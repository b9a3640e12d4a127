
import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from controlroom import journal
from tests.controlroom.live_clients import Console, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def record(n=1, agencies=(), type="test.happened"):
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(journal.record(type=type, actor="system:test", agencies=agencies,
                                         payload={"i": i}))
    return [e.seq for e in events]


async def receive_events(socket, count, timeout=5):
    events = []
    while len(events) < count:
        message = await socket.receive_json_from(timeout=timeout)
        if message["kind"] == "event":
            events.append(message)
    return events


async def drain_kinds(socket, heartbeats=3):
    """Kinds of the messages that arrive until a few heartbeats have passed.

    (A receive that times out cancels the consumer under test, so wait on heartbeats instead.)
    """
    kinds, seen = set(), 0
    while seen < heartbeats:
        message = await socket.receive_json_from(timeout=5)
        kinds.add(message["kind"])
        seen += message["kind"] == "heartbeat"
    return kinds


async def test_an_anonymous_socket_is_refused():
    socket, connected, code = await open_socket(None)
    assert not connected and code == 4401


async def test_a_socket_from_another_origin_is_refused(people):
    socket, connected, _ = await open_socket(people["operator"], origin=False)
    assert not connected


async def test_a_malformed_after_is_refused(people):
    from channels.testing import WebsocketCommunicator

    from controlroom.asgi import application
    from tests.controlroom.live_clients import ORIGIN, session_cookie

    cookie = await session_cookie(people["operator"])
    socket = WebsocketCommunicator(application, "/ws/live/?after=abc",
                                   headers=[ORIGIN, (b"cookie", cookie)])
    connected, code = await socket.connect()
    assert not connected and code == 4400


async def test_live_events_stream_in_order(people):
    socket, connected, _ = await open_socket(people["operator"])
    assert connected
    ready = await socket.receive_json_from()
    head = await database_sync_to_async(journal.head_seq)()
    assert ready == {"kind": "ready", "seq": head, "replayed": 0}
    seqs = await record(5)
    events = await receive_events(socket, 5)
    assert [e["seq"] for e in events] == seqs
    assert events[0]["type"] == "test.happened" and events[0]["actor"] == "system:test"
    await socket.disconnect()


async def test_resume_with_after_receives_exactly_the_missed_events_in_order(people):
    seqs = await record(12)
    socket, connected, _ = await open_socket(people["operator"], after=seqs[4])
    assert connected
    replayed = await receive_events(socket, 7)
    assert [e["seq"] for e in replayed] == seqs[5:]
    ready = await socket.receive_json_from()
    assert ready == {"kind": "ready", "seq": seqs[-1], "replayed": 7}
    more = await record(2)
    assert [e["seq"] for e in await receive_events(socket, 2)] == more
    await socket.disconnect()


async def test_agency_scoping_hides_other_agencies_events(people, agencies):
    liaison = await open_socket(people["liaison_pn"])
    operator = await open_socket(people["operator"])
    for socket, *_ in (liaison, operator):
        assert (await socket.receive_json_from())["kind"] == "ready"

    internal = await record(1)
    for_pn = await record(1, agencies=[agencies["pn"].pk])
    for_sdis = await record(1, agencies=[agencies["sdis"].pk])
    for_both = await record(1, agencies=[agencies["pn"].pk, agencies["sdis"].pk])

    seen_by_operator = [e["seq"] for e in await receive_events(operator[0], 4)]
    assert seen_by_operator == internal + for_pn + for_sdis + for_both
    seen_by_liaison = [e["seq"] for e in await receive_events(liaison[0], 2)]
    assert seen_by_liaison == for_pn + for_both
    # Nothing else arrives for the liaison: only heartbeats.
    heartbeat = await liaison[0].receive_json_from(timeout=2)
    assert heartbeat["kind"] == "heartbeat" and heartbeat["delivered"] == for_both[0]
    assert await drain_kinds(liaison[0]) == {"heartbeat"}

    # Resuming replays with the same scoping.
    replay, connected, _ = await open_socket(people["liaison_pn"], after=internal[0])
    assert [e["seq"] for e in await receive_events(replay, 2)] == for_pn + for_both
    assert (await replay.receive_json_from())["replayed"] == 2
    for socket in (liaison[0], operator[0], replay):
        await socket.disconnect()


async def test_an_event_published_while_disconnected_arrives_after_reconnect(people):
    console = await Console(people["operator"]).connect()
    first = await record(2)
    await console.run_until(first[-1])
    await console.disconnect()

    missed = await record(3)

    await console.connect()
    later = await record(1)
    await console.run_until(later[-1])
    assert [e["seq"] for e in console.events] == first + missed + later
    await console.disconnect()


async def test_heartbeats_carry_the_journal_head(people):
    socket, *_ = await open_socket(people["supervisor"])
    await socket.receive_json_from()
    seqs = await record(2)
    messages = [await socket.receive_json_from(timeout=2) for _ in range(3)]
    heartbeat = next(m for m in messages if m["kind"] == "heartbeat")
    assert heartbeat["seq"] == seqs[-1]
    await socket.disconnect()


async def test_a_gap_in_the_fast_path_is_filled_from_the_journal(people, monkeypatch):
    """Events whose push is lost (a full channel, a worker on another process) still arrive."""
    console = await Console(people["operator"]).connect()
    monkeypatch.setattr(journal, "publish", lambda event: None)
    lost = await record(3)
    monkeypatch.undo()
    # Nothing is pushed: the server's hub sees the head moved and reads the journal once for
    # all its consoles; the events come down the socket, no console reads the API.
    await console.run_until(lost[-1], timeout=5)
    assert [e["seq"] for e in console.events] == lost
    assert console.fetches == 0

    await console.disconnect()


async def test_a_push_that_jumps_over_a_lost_one_is_preceded_by_the_lost_one(people, monkeypatch):
    socket, *_ = await open_socket(people["operator"])
    await socket.receive_json_from()
    monkeypatch.setattr(journal, "publish", lambda event: None)
    skipped = await record(1)
    monkeypatch.undo()
    pushed = await record(1)
    events = await receive_events(socket, 2)
    assert [e["seq"] for e in events] == skipped + pushed
    await socket.disconnect()


async def test_a_liaison_without_permission_cannot_watch(people):
    user = people["liaison_pn"]

    @database_sync_to_async
    def strip():
        user.groups.clear()
        user.__class__.objects.get(pk=user.pk)

    await strip()
    socket, connected, code = await open_socket(user)
    assert not connected and code == 4401


async def test_out_of_order_pushes_reach_the_console_in_order(people):
    """Two processes committing in turn may publish in the other order."""
    from channels.layers import get_channel_layer

    socket, *_ = await open_socket(people["operator"])
    await socket.receive_json_from()

    captured = []

    def capture(event):
        captured.append(journal.live_message(event))

    import controlroom.journal as module
    original = module.publish
    module.publish = capture
    try:
        await record(2)
    finally:
        module.publish = original
    layer = get_channel_layer()
    for event in reversed(captured):
        await layer.group_send(journal.LIVE_GROUP, {"type": "journal.event", "event": event})
    events = await receive_events(socket, 2)
    assert [e["seq"] for e in events] == [c["seq"] for c in captured]
    # The second push is a duplicate and is dropped: only heartbeats follow.
    assert await drain_kinds(socket) == {"heartbeat"}
    await socket.disconnect()
