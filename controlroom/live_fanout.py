"""One subscriber per server process fans the journal out to that process's consoles.

The journal's fast path (``journal.publish``) sends each event once to the channel layer's live
group. In each server process a single hub is the group's only member: it receives the event once,
checks it follows the last one (and reads any gap from the journal, once for the whole process),
decides its visibility once per scope (an agency, or every agency) rather than once per socket,
and appends the text the writer encoded to the outbox of each console that may see it. Events that
arrive within a few milliseconds of each other go out as one frame per console.

Each console drains its own outbox (``Outlet``), so a slow socket never holds the others back.
An outbox that grows past ``LIVE_OUTBOX_LIMIT`` messages while its writer waits on the socket
(the server's flow control holds a slow console's sends) means the console fell behind: its
outbox is dropped, it is told to resynchronise (``{"kind": "resync"}``) and closed, and it comes
back with ``?after=`` the last event it showed, which the journal replays. Server memory stays
bounded by the limit whatever the load. Heartbeats go through the same outboxes, after the events
they vouch for, so a heartbeat never overtakes an event.
"""

import asyncio
import logging
import weakref
from collections import deque
from typing import Protocol

from channels.db import DatabaseSyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings

from controlroom import journal
from controlroom.models import Event

logger = logging.getLogger(__name__)

FILL_BATCH = 1000


class Outlet(Protocol):
    """What the hub needs of a console (``consumers.LiveConsumer``)."""

    scope_key: tuple
    outbox: deque
    wake: asyncio.Event
    sending: bool

    def fell_behind(self) -> None: ...


FRAME_BYTES = 256 * 1024


def frame(messages) -> str:
    """One WebSocket frame for encoded messages: the message itself, or a batch of them."""
    if len(messages) == 1:
        return messages[0]
    return '{"kind":"batch","messages":[' + ",".join(messages) + "]}"


def frames(messages, limit: int = FRAME_BYTES):
    """The messages in as few frames as fit ``limit`` characters each (a message larger than
    that travels alone): a catch-up after a long absence never makes one huge frame."""
    chunk, size = [], 0
    for message in messages:
        if chunk and size + len(message) > limit:
            yield frame(chunk)
            chunk, size = [], 0
        chunk.append(message)
        size += len(message) + 1
    if chunk:
        yield frame(chunk)


def scope_of(viewer) -> tuple:
    """Consoles whose viewers see the same events share a scope (visibility decided once)."""
    return ("all",) if viewer.sees_all else ("agency", viewer.agency_id)


def scope_sees(scope: tuple, agencies) -> bool:
    return scope[0] == "all" or (scope[1] is not None and scope[1] in agencies)


def _database_call(func):
    return DatabaseSyncToAsync(func, thread_sensitive=False)


@_database_call
def _read_head() -> int:
    return journal.head_seq()


@_database_call
def _read_after(after: int, upto: int | None) -> list[tuple[int, list[int], str]]:
    events = Event.objects.filter(seq__gt=after).order_by("seq")
    if upto is not None:
        events = events.filter(seq__lte=upto)
    return [journal.live_entry(event) for event in events[:FILL_BATCH]]


class Hub:
    """The process's (more exactly, the event loop's) subscriber to the live group."""

    def __init__(self):
        self.scopes: dict[tuple, set] = {}
        self.count = 0
        self.last_seq = 0
        self.pending: list[tuple[int, list[int], str]] = []
        self.flush_handle: asyncio.TimerHandle | None = None
        self.ready = asyncio.Event()
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.announced_head = 0
        self.heartbeat_at = 0.0
        self.task = asyncio.get_running_loop().create_task(self._run())
        self.ticker = asyncio.get_running_loop().create_task(self._tick())

    # --- consoles ------------------------------------------------------------------------
    def add(self, outlet: Outlet) -> int:
        """Start feeding ``outlet``; returns the last seq the hub has passed on (the outlet
        replays up to it from the journal; everything after comes through its outbox)."""
        self.scopes.setdefault(outlet.scope_key, set()).add(outlet)
        self.count += 1
        return self.last_seq

    def remove(self, outlet: Outlet) -> None:
        members = self.scopes.get(outlet.scope_key)
        if members and outlet in members:
            members.discard(outlet)
            self.count -= 1
            if not members:
                del self.scopes[outlet.scope_key]

    def rescope(self, outlet: Outlet, scope: tuple) -> None:
        self.remove(outlet)
        outlet.scope_key = scope
        self.scopes.setdefault(scope, set()).add(outlet)
        self.count += 1

    # --- the stream ----------------------------------------------------------------------
    async def _run(self):
        try:
            self.channel = await self.layer.new_channel(prefix="live-hub.")
            await self.layer.group_add(journal.LIVE_GROUP, self.channel)
            # Subscribed first, then read: an event committed in between comes twice at most.
            self.last_seq = self.announced_head = await _read_head()
            self.ready.set()
            while True:
                message = await self.layer.receive(self.channel)
                await self._take(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("The live hub stopped; consoles will reconnect")
            self._close_all()
            raise

    async def _take(self, message):
        event = message.get("event") or {}
        seq = event.get("seq")
        if not isinstance(seq, int) or seq <= self.last_seq:
            return  # a duplicate, or an event a fill already read
        if seq > self.last_seq + 1:
            await self._fill(seq - 1)
            if seq <= self.last_seq:
                return
        text = message.get("text")
        if text is None:
            text = journal.live_text(event)
        self._queue(seq, event.get("agencies") or [], text)

    async def _fill(self, upto: int | None) -> None:
        """Read from the journal the events after the last one passed on, up to ``upto``."""
        while upto is None or self.last_seq < upto:
            batch = await _read_after(self.last_seq, upto)
            for seq, agencies, text in batch:
                if seq > self.last_seq:
                    self._queue(seq, agencies, text)
            if len(batch) < FILL_BATCH:
                if upto is not None:
                    self.last_seq = max(self.last_seq, upto)
                return

    def _queue(self, seq: int, agencies: list[int], text: str) -> None:
        self.pending.append((seq, agencies, text))
        self.last_seq = seq
        if self.flush_handle is None:
            self.flush_handle = asyncio.get_running_loop().call_later(
                settings.LIVE_COALESCE_SECONDS, self._flush)

    def _flush(self) -> None:
        self.flush_handle = None
        pending, self.pending = self.pending, []
        if not pending:
            return
        # A console that falls behind leaves its scope meanwhile: iterate over a copy.
        for scope, members in list(self.scopes.items()):
            texts = [text for _seq, agencies, text in pending if scope_sees(scope, agencies)]
            if texts:
                self._deliver(members, texts)

    def _deliver(self, members, texts) -> None:
        limit = settings.LIVE_OUTBOX_LIMIT
        for outlet in list(members):
            outlet.outbox.extend(texts)
            # Behind: messages piled up while its writer waits on the socket. (A burst taken at
            # once by an idle writer is not.)
            if outlet.sending and len(outlet.outbox) > limit:
                outlet.fell_behind()
            else:
                outlet.wake.set()

    # --- heartbeats and lost pushes ------------------------------------------------------
    async def _tick(self):
        await self.ready.wait()
        interval = settings.LIVE_HEARTBEAT_SECONDS
        while True:
            await asyncio.sleep(interval)
            try:
                head = await _read_head()
            except Exception:  # noqa: BLE001 - the database is back on the next tick
                logger.warning("Could not read the journal head", exc_info=True)
                continue
            # What the previous tick saw committed and no push has brought since was lost on the
            # way (a full channel, a Redis restart): read it once for every console here.
            if self.announced_head > self.last_seq:
                await self._fill(self.announced_head)
            self.announced_head = head
            if self.flush_handle is not None:
                self.flush_handle.cancel()
            self._flush()
            # ``seq``: the journal's head; ``delivered``: every event up to it that the console
            # may see is ahead of this heartbeat in its outbox.
            beat = journal.encode({"kind": "heartbeat", "seq": max(head, self.last_seq),
                                   "delivered": self.last_seq})
            for members in list(self.scopes.values()):
                self._deliver(members, [beat])

    def _close_all(self):
        for members in list(self.scopes.values()):
            for outlet in list(members):
                outlet.fell_behind()

    async def stop(self):
        for task in (self.task, self.ticker):
            task.cancel()
        if self.flush_handle is not None:
            self.flush_handle.cancel()
        if self.channel is not None:
            try:
                await self.layer.group_discard(journal.LIVE_GROUP, self.channel)
            except Exception:  # noqa: BLE001 - a layer that is gone has no group left
                logger.debug("Could not leave the live group", exc_info=True)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


async def hub() -> Hub:
    """This event loop's hub, started at the first console."""
    loop = asyncio.get_running_loop()
    current = _hubs.get(loop)
    if current is None or current.task.done():
        current = _hubs[loop] = Hub()
    await asyncio.wait_for(asyncio.shield(current.ready.wait()), timeout=10)
    return current


async def release(current: Hub) -> None:
    """A console left; the hub of a loop without consoles stops (the next console restarts it)."""
    if current.count == 0 and _hubs.get(asyncio.get_running_loop()) is current:
        del _hubs[asyncio.get_running_loop()]
        await current.stop()
