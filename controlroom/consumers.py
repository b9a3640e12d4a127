"""Live push of the journal to the consoles.

A console connects to ``/ws/live/?after=<seq>``. The consumer joins the live group *before*
reading the journal, replays what the user missed, then streams live events. Every event in the
journal passes through this consumer in sequence order whatever its visibility, so it can tell a
gap in the fast path (a message dropped or overtaken) from an event the user may not see, and fill
the gap from the journal: each socket receives the visible events in order, each exactly once.
A heartbeat carries the journal head, so a client can also notice what never reached it.
"""

import asyncio
import logging
import time
import weakref

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from controlroom import journal, live_access, selectors

logger = logging.getLogger(__name__)

REPLAY_BATCH = 500
CLOSE_UNAUTHORISED = 4401
CLOSE_BAD_REQUEST = 4400


def _database_call(func):
    """Run ORM code in the shared thread pool, not the single thread-sensitive one: hundreds of
    consoles connecting at once must not queue behind each other's queries."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)


@_database_call
def _viewer(user):
    return selectors.viewer_for(user)


@_database_call
def _current_viewer(session_key: str | None):
    """The viewer as the session stands now: a session ended, or a password changed since the
    socket connected, gives an anonymous viewer."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user

    user = get_user(SimpleNamespace(session=live_access.session_store(session_key)))
    return selectors.viewer_for(user)


@_database_call
def _read_head_seq() -> int:
    return journal.head_seq()


class _HeadCache:
    """The journal head, read at most once per interval for all the consoles of this process."""

    def __init__(self):
        self.value, self.read_at, self.lock = 0, 0.0, None

    async def get(self, max_age: float) -> int:
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            now = time.monotonic()
            if now - self.read_at > max_age:
                self.value, self.read_at = await _read_head_seq(), now
            return self.value


# One cache per event loop: asyncio locks belong to the loop that created them.
_head_caches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _HeadCache]" = (
    weakref.WeakKeyDictionary()
)


async def _head_seq(max_age: float = 0.0) -> int:
    if max_age <= 0:
        return await _read_head_seq()
    loop = asyncio.get_running_loop()
    cache = _head_caches.get(loop)
    if cache is None:
        cache = _head_caches[loop] = _HeadCache()
    return await cache.get(max_age)


@_database_call
def _visible_between(viewer, after: int, upto: int) -> list[dict]:
    events = selectors.events_visible_to(viewer=viewer, after=after).filter(seq__lte=upto)
    return [journal.live_message(event) for event in events[:REPLAY_BATCH]]


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.viewer = await _viewer(self.scope.get("user"))
        if not self.viewer.may_watch:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        after = self._after_parameter()
        if after is False:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.lock = asyncio.Lock()
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None) if session is not None else None
        # Told when this user's access changes (live_access); subscribed before the journal.
        await self.channel_layer.group_add(live_access.user_group(self.viewer.user_id),
                                           self.channel_name)
        # Subscribe first, then read: nothing can fall between the replay and the live stream.
        await self.channel_layer.group_add(journal.LIVE_GROUP, self.channel_name)
        await self.accept()
        head = await _head_seq()
        self.delivered = head if after is None or after > head else after
        async with self.lock:
            replayed = await self._send_range(head)
        await self.send_json({"kind": "ready", "seq": self.delivered, "replayed": replayed})
        self.heartbeat = asyncio.create_task(self._heartbeat())

    async def disconnect(self, code):
        task = getattr(self, "heartbeat", None)
        if task:
            task.cancel()
        if hasattr(self, "lock"):
            await self.channel_layer.group_discard(journal.LIVE_GROUP, self.channel_name)
            await self.channel_layer.group_discard(
                live_access.user_group(self.viewer.user_id), self.channel_name)

    async def access_recheck(self, message):
        """This user's access changed: close the socket, or narrow what it streams."""
        ended = message.get("ended_session")
        if ended and ended == self.session_key:
            await self._revoke()
            return
        await self._recheck()

    async def _recheck(self) -> bool:
        """Read the user's access again; False when the socket had to close."""
        viewer = await _current_viewer(self.session_key)
        if not viewer.may_watch or viewer.user_id != self.viewer.user_id:
            await self._revoke()
            return False
        async with self.lock:
            self.viewer = viewer
        return True

    async def _revoke(self):
        task = getattr(self, "heartbeat", None)
        if task and task is not asyncio.current_task():
            task.cancel()
        await self.close(code=CLOSE_UNAUTHORISED)

    async def receive_json(self, content, **kwargs):
        # Clients only listen; a ping is answered so they can measure the round trip.
        if isinstance(content, dict) and content.get("kind") == "ping":
            await self.send_json({"kind": "pong", "seq": self.delivered})

    async def journal_event(self, message):
        event = message["event"]
        seq = event["seq"]
        async with self.lock:
            if seq <= self.delivered:
                return  # already sent, from the replay or a gap fill
            if seq > self.delivered + 1:
                await self._send_range(seq - 1)
            if self.viewer.can_see(event["agencies"]):
                text = message.get("text")
                if text is None:
                    await self.send_json({"kind": "event", **event})
                else:
                    await self.send(text_data=text)
            self.delivered = seq

    async def _send_range(self, upto: int) -> int:
        """Send the visible events in (delivered, upto] from the journal; caller holds the lock."""
        sent = 0
        while self.delivered < upto:
            batch = await _visible_between(self.viewer, self.delivered, upto)
            for event in batch:
                await self.send_json({"kind": "event", **event})
            sent += len(batch)
            if len(batch) < REPLAY_BATCH:
                self.delivered = upto
            else:
                self.delivered = batch[-1]["seq"]
        return sent

    async def _heartbeat(self):
        interval = settings.LIVE_HEARTBEAT_SECONDS
        checked_at = time.monotonic()
        try:
            while True:
                await asyncio.sleep(interval)
                if time.monotonic() - checked_at >= settings.LIVE_ACCESS_RECHECK_SECONDS:
                    checked_at = time.monotonic()
                    if not await self._recheck():
                        return
                head = await _head_seq(max_age=interval / 4)
                await self.send_json({"kind": "heartbeat", "seq": head, "delivered": self.delivered})
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - a closed socket ends the heartbeat quietly
            logger.debug("Heartbeat stopped", exc_info=True)

    def _after_parameter(self):
        """None when absent, the integer when valid, False when malformed."""
        from urllib.parse import parse_qs

        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get("after")
        if not values:
            return None
        try:
            after = int(values[0])
        except ValueError:
            return False
        return after if after >= 0 else False
