"""Channel-layer group sends from synchronous code, in order, over one connection per process.

``async_to_sync(layer.group_send)`` starts an event loop for each call, and channels_redis keeps
its Redis connections per event loop: every journal event paid for a new loop and a new connection
(2-10 ms). Here one thread per process keeps a loop, so one connection, and sends messages in the
order they were given without making the writer wait. The in-memory layer lives in the loop that
serves the consoles, so it is still reached through ``async_to_sync``.
"""

import asyncio
import atexit
import logging
import os
import queue
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

_STOP = object()


class _Sender:
    def __init__(self):
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.queue: queue.SimpleQueue | None = None
        self.thread: threading.Thread | None = None

    def send(self, group: str, message: dict) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(layer.group_send)(group, message)
            return
        self._started().put((layer, group, message))

    def _started(self) -> queue.SimpleQueue:
        # A forked worker inherits the parent's objects but not its thread.
        if self.pid != os.getpid() or self.thread is None or not self.thread.is_alive():
            with self.lock:
                if self.pid != os.getpid() or self.thread is None or not self.thread.is_alive():
                    self.queue = queue.SimpleQueue()
                    self.thread = threading.Thread(target=self._run, args=(self.queue,),
                                                   name="live-publisher", daemon=True)
                    self.thread.start()
                    self.pid = os.getpid()
        return self.queue

    @staticmethod
    def _run(messages: queue.SimpleQueue) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            while (item := messages.get()) is not _STOP:
                layer, group, message = item
                try:
                    loop.run_until_complete(layer.group_send(group, message))
                except Exception:  # noqa: BLE001 - consoles read what a push lost from the journal
                    logger.warning("Could not publish to %s", group, exc_info=True)
        finally:
            loop.close()

    def drain(self, timeout: float = 2.0) -> None:
        """Send what is queued before the process exits (bounded wait)."""
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            self.queue.put(_STOP)
            self.thread.join(timeout)


_sender = _Sender()
send = _sender.send
atexit.register(_sender.drain)
