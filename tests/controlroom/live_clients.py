"""Test consoles: WebSocket communicators that behave like static/controlroom/js/live.js."""

import asyncio
import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from controlroom.asgi import application

ORIGIN = (b"origin", b"http://localhost")


def messages_of(frame: str) -> list[dict]:
    """The messages of one frame: a batch's, or the frame's own."""
    message = json.loads(frame)
    return message["messages"] if message.get("kind") == "batch" else [message]


class LiveCommunicator(WebsocketCommunicator):
    """Hands out the messages of a batch frame one by one, as live.js does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unread: list[dict] = []
        self.frames = 0

    async def receive_json_from(self, timeout=1):
        if not self.unread:
            self.unread = messages_of(await self.receive_from(timeout))
            self.frames += 1
        return self.unread.pop(0)


@database_sync_to_async
def session_cookie(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


async def open_socket(user=None, *, after=None, origin=True):
    path = "/ws/live/" + ("" if after is None else f"?after={after}")
    headers = [ORIGIN] if origin else []
    if user is not None:
        headers.append((b"cookie", await session_cookie(user)))
    communicator = LiveCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=10)
    return communicator, connected, code


class Console:
    """Keeps the last seq, de-duplicates, and fills from the events API what a heartbeat
    announced and the next heartbeat finds still missing."""

    def __init__(self, user):
        self.user = user
        self.events: list[dict] = []
        self.last_seq: int | None = None
        self.fetches = 0
        self.announced = None
        self.socket = None

    async def connect(self):
        self.socket, connected, _code = await open_socket(self.user, after=self.last_seq)
        assert connected
        ready = await self.socket.receive_json_from(timeout=10)
        while ready["kind"] == "event":
            self.accept(ready)
            ready = await self.socket.receive_json_from(timeout=10)
        assert ready["kind"] == "ready"
        self.announced = None
        self.advance(ready["seq"])
        return self

    async def disconnect(self):
        await self.socket.disconnect()
        self.socket = None

    def accept(self, event):
        if self.last_seq is not None and event["seq"] <= self.last_seq:
            return
        self.last_seq = event["seq"]
        self.events.append(event)

    def advance(self, seq):
        if self.last_seq is None or seq > self.last_seq:
            self.last_seq = seq

    async def handle(self, message):
        if message["kind"] == "event":
            self.accept(message)
        elif message["kind"] == "heartbeat":
            self.advance(message["delivered"])
            if self.announced is not None and self.announced > self.last_seq:
                await self.fill_gap()
            self.announced = message["seq"]

    @database_sync_to_async
    def _fetch(self, url):
        client = Client()
        client.force_login(self.user)
        response = client.get(url)
        assert response.status_code == 200, response.content
        return response.json()

    async def fill_gap(self):
        self.fetches += 1
        url, latest = f"/api/events/?after={self.last_seq}", None
        while url:
            page = await self._fetch(url)
            for event in page["results"]:
                self.accept(event)
            latest, url = page["latest_seq"], page["next"]
        self.advance(latest)

    async def run_until(self, seq, timeout=30):
        """Handle messages until everything up to ``seq`` is known."""
        async def loop():
            while self.last_seq is None or self.last_seq < seq:
                await self.handle(await self.socket.receive_json_from(timeout=timeout))
        await asyncio.wait_for(loop(), timeout)
