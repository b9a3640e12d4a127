"""Health of the parts the control room depends on: database, channel layer, broker, and
whether the rate limiters count in Redis or, failing open, in each process."""

import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from controlroom import ratelimit_cache
from controlroom.celery import app as celery_app


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
        state = {"ok": True}
        if detail:
            state["detail"] = detail
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
        state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    state["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return state


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _channel_layer():
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def round_trip():
        channel = await layer.new_channel(prefix="healthz")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz", "token": token})
        import asyncio

        message = await asyncio.wait_for(layer.receive(channel), timeout=2)
        if message.get("token") != token:
            raise RuntimeError("channel layer returned another message")

    async_to_sync(round_trip)()
    return type(layer).__name__


def _broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else str(conn.transport_cls)


def _rate_limiter() -> dict:
    """Always usable: it fails open to a local limit, which the detail says."""
    started = time.perf_counter()
    cache = caches[settings.RATELIMIT_USE_CACHE]
    cache.get("healthz")  # tries Redis again if an outage's retry delay has passed
    shared = isinstance(cache, ratelimit_cache.FailOpenCache)
    state = ratelimit_cache.state() if shared else {"fail_open": False}
    mode = "local (fail-open)" if state["fail_open"] else "shared" if shared else "local"
    return {"ok": True, "mode": mode, **state,
            "ms": round((time.perf_counter() - started) * 1000, 1)}


def health_report() -> tuple[bool, dict]:
    checks = {
        "database": _timed(_database),
        "channel_layer": _timed(_channel_layer),
        "broker": _timed(_broker),
        "rate_limiter": _rate_limiter(),
    }
    return all(c["ok"] for c in checks.values()), checks
