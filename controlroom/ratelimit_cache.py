"""The rate limiters' cache: Redis, shared by every process, failing open to a local limit.

The partner API's throttle and the public forms' limits (django-ratelimit) count in this cache.
If Redis cannot be reached, counting goes on in this process's memory (the same rates, applied
per process) instead of raising: an alert is never refused because the cache is down. The
outage is logged once when it starts and once when it ends, and ``state()`` tells the health
page. While it lasts, Redis is tried again every ``RETRY_SECONDS`` (short socket timeouts keep a
hung server from holding a request).

Settings: ``{"BACKEND": "controlroom.ratelimit_cache.FailOpenCache", "LOCATION": REDIS_URL,
"OPTIONS": {"RETRY_SECONDS": 5, "socket_timeout": 0.5, ...}}``; other options go to Redis.
"""

import logging
import threading
import time
from datetime import UTC, datetime

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_outage: dict = {"since": None, "error": "", "retry_at": 0.0}


def state() -> dict:
    """Whether the limits are shared (Redis) or local to each process since an outage."""
    with _lock:
        since = _outage["since"]
        return {"fail_open": since is not None,
                "since": since.isoformat() if since else None, "error": _outage["error"]}


def _failed(exc: Exception, retry_seconds: float) -> None:
    with _lock:
        first = _outage["since"] is None
        if first:
            _outage["since"] = datetime.now(UTC)
        _outage["error"] = f"{type(exc).__name__}: {exc}"[:300]
        _outage["retry_at"] = time.monotonic() + retry_seconds
    if first:
        logger.warning("Rate limiting fails open to a local, in-process limit: its Redis cache "
                       "is unreachable (%s)", _outage["error"])


def _recovered() -> None:
    with _lock:
        if _outage["since"] is None:
            return
        since = _outage["since"]
        _outage.update(since=None, error="", retry_at=0.0)
    logger.warning("Rate limiting is shared again: its Redis cache answers (local since %s)",
                   since.isoformat())


class FailOpenCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 5))
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        self.shared = RedisCache(location, {**params, "OPTIONS": options})
        self.local = LocMemCache("controlroom-rate-limits", {
            "TIMEOUT": params.get("TIMEOUT", 300), "KEY_PREFIX": params.get("KEY_PREFIX", ""),
            "OPTIONS": {"MAX_ENTRIES": 100_000}})

    def _call(self, name: str, *args, **kwargs):
        with _lock:
            waiting = _outage["since"] is not None and time.monotonic() < _outage["retry_at"]
        if not waiting:
            try:
                result = getattr(self.shared, name)(*args, **kwargs)
            except (RedisError, OSError) as exc:
                _failed(exc, self.retry_seconds)
            else:
                _recovered()
                return result
        return getattr(self.local, name)(*args, **kwargs)

    def close(self, **kwargs):
        self.shared.close(**kwargs)


def _delegated(name: str):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


for _name in ("add", "get", "set", "touch", "delete", "incr", "decr", "has_key", "get_many",
              "set_many", "delete_many", "clear"):
    setattr(FailOpenCache, _name, _delegated(_name))
