"""The anchor of the live push benchmark: a minimal Channels app on channels_redis' pub/sub layer.

Each WebSocket joins one group and forwards, as they come, the texts that the benchmark's writer
sends to that group: no login, no journal, no resume. It is what plain Channels costs per
delivered message, measured beside the project in the same run (``bench/live_push.py --anchor``).
Served as ``live_anchor:application`` with ``bench/`` on the path; needs ``REDIS_URL``.
"""

import os

import django
from django.conf import settings

GROUP = "anchor"

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["channels"],
        ALLOWED_HOSTS=["*"],
        CHANNEL_LAYERS={"default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": os.environ["REDIS_URL"], "max_connections": 1000}],
                       "prefix": os.environ.get("CHANNELS_PREFIX", "bench-anchor")},
        }},
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class AnchorConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send(text_data='{"kind":"ready","seq":0}')

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_event(self, message):
        await self.send(text_data=message["text"])


application = ProtocolTypeRouter({
    "websocket": URLRouter([path("ws/live/", AnchorConsumer.as_asgi())]),
})
