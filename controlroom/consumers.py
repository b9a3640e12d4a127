"""Live push of the journal to the consoles.

A console connects to ``/ws/live/?after=<seq>``. The socket registers with its process's hub
(``live_fanout``) *before* reading the journal, replays what the user missed up to the last event
the hub has passed on, then streams what the hub queues for it. The hub sees every event in
sequence order and fills gaps from the journal, so each socket receives the visible events in
order, each exactly once. Heartbeats, queued behind the events, carry the last seq passed on.
Several messages may travel in one frame: ``{"kind": "batch", "messages": [...]}``.
"""

import asyncio
import logging
import random
from collections import deque

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from controlroom import journal, live_access, live_fanout, selectors

logger = logging.getLogger(__name__)

REPLAY_BATCH = 500
CLOSE_UNAUTHORISED = 4401
CLOSE_BAD_REQUEST = 4400
# The console fell behind: it reconnects with ?after= and catches up from the journal.
CLOSE_RESYNC = 4408


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
def _visible_between(viewer, after: int, upto: int) -> list[dict]:
    events = selectors.events_visible_to(viewer=viewer, after=after).filter(seq__lte=upto)
    return [journal.live_message(event) for event in events[:REPLAY_BATCH]]


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One console's socket. The process's hub (``live_fanout``) fills its outbox; the socket's
    own writer task drains it, so a slow socket holds no one else back."""

    async def connect(self):
        self.viewer = await _viewer(self.scope.get("user"))
        if not self.viewer.may_watch:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        after = self._after_parameter()
        if after is False:
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None) if session is not None else None
        # Told when this user's access changes (live_access); subscribed before the journal.
        await self.channel_layer.group_add(live_access.user_group(self.viewer.user_id),
                                           self.channel_name)
        self.hub = await live_fanout.hub()
        await self.accept()
        self.outbox: deque[str] = deque()
        self.wake = asyncio.Event()
        self.sending = False  # the writer waits on the socket (its sends are held back)
        self.scope_key = live_fanout.scope_of(self.viewer)
        # From here on the hub queues every event after ``head`` for this socket; the events up
        # to it come from the journal first.
        head = self.hub.add(self)
        self.delivered = head if after is None or after > head else after
        replayed = await self._send_range(head)
        await self.send_json({"kind": "ready", "seq": self.delivered, "replayed": replayed})
        self.writer = asyncio.create_task(self._write())
        self.checker = asyncio.create_task(self._recheck_periodically())

    def _stop_tasks(self) -> None:
        """Cancel the socket's writer and access checks (not the task calling this)."""
        for name in ("writer", "checker"):
            task = getattr(self, name, None)
            if task and task is not asyncio.current_task():
                task.cancel()

    async def disconnect(self, code):
        self._stop_tasks()
        hub = getattr(self, "hub", None)
        if hub is not None:
            hub.remove(self)
            self.hub = None
            await live_fanout.release(hub)
        if hasattr(self, "session_key"):
            await self.channel_layer.group_discard(
                live_access.user_group(self.viewer.user_id), self.channel_name)

    async def _write(self):
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                if self.outbox:
                    messages = list(self.outbox)
                    self.outbox.clear()
                    self.sending = True
                    for text in live_fanout.frames(messages):
                        await self.send(text_data=text)
                    self.sending = False
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - a closed socket ends the writer quietly
            logger.debug("Writer stopped", exc_info=True)

    def fell_behind(self) -> None:
        """Called by the hub when the outbox passed its bound: drop it, tell the console to
        resynchronise from the journal, and close."""
        self.outbox.clear()
        if self.hub is not None:
            self.hub.remove(self)
        self._stop_tasks()
        asyncio.get_running_loop().create_task(self._resync())

    async def _resync(self):
        try:
            await self.send(text_data=journal.encode({"kind": "resync"}))
            await self.close(code=CLOSE_RESYNC)
        except Exception:  # noqa: BLE001 - already gone
            logger.debug("Could not ask a console to resynchronise", exc_info=True)

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
        self.viewer = viewer
        scope = live_fanout.scope_of(viewer)
        if scope != self.scope_key and getattr(self, "hub", None) is not None:
            self.hub.rescope(self, scope)
        return True

    async def _recheck_periodically(self):
        interval = settings.LIVE_ACCESS_RECHECK_SECONDS
        # Spread: the consoles of a process often connected together (after a restart).
        delay = interval * (0.5 + random.random())
        try:
            while True:
                await asyncio.sleep(delay)
                delay = interval
                if not await self._recheck():
                    return
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - a closed socket ends the checks quietly
            logger.debug("Access recheck stopped", exc_info=True)

    async def _revoke(self):
        self._stop_tasks()
        if getattr(self, "hub", None) is not None:
            self.hub.remove(self)
        await self.close(code=CLOSE_UNAUTHORISED)

    async def receive_json(self, content, **kwargs):
        # Clients only listen; a ping is answered so they can measure the round trip.
        if isinstance(content, dict) and content.get("kind") == "ping":
            await self.send_json({"kind": "pong"})

    async def _send_range(self, upto: int) -> int:
        """Send the visible events in (delivered, upto] from the journal."""
        sent = 0
        while self.delivered < upto:
            batch = await _visible_between(self.viewer, self.delivered, upto)
            for text in live_fanout.frames([journal.live_text(event) for event in batch]):
                await self.send(text_data=text)
            sent += len(batch)
            if len(batch) < REPLAY_BATCH:
                self.delivered = upto
            else:
                self.delivered = batch[-1]["seq"]
        return sent

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
