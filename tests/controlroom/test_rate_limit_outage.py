"""Alert intake does not depend on Redis: with the rate limiters' Redis unreachable, the partner
API and the citizen form still store alerts, limited per process; the logs and /healthz say so.
Redis here is really unreachable (a closed port, or a private server stopped in the test)."""

import shutil
import socket
import subprocess
import time
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from citizens.catalogue import services_ensure_defaults
from citizens.models import Report
from controlroom import ratelimit_cache
from incidents.models import Alert, PartnerSystem
from tests.devices.workers import free_port

pytestmark = pytest.mark.django_db
DARCY = (47.3225, 5.0352)


@pytest.fixture
def limiter_on(settings, monkeypatch):
    """Point the caches and the channel layer at a Redis URL; a fresh outage state."""
    from channels.layers import channel_layers

    monkeypatch.setattr(ratelimit_cache, "_outage", {"since": None, "error": "", "retry_at": 0.0})
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"partner": "2/min"})

    def point(url: str, retry_seconds: float = 60):
        prefix = f"test-{uuid.uuid4().hex[:8]}"
        settings.CACHES = {**settings.CACHES, "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
            "KEY_PREFIX": prefix}, "ratelimit": {
            "BACKEND": "controlroom.ratelimit_cache.FailOpenCache", "LOCATION": url,
            "KEY_PREFIX": prefix, "OPTIONS": {"RETRY_SECONDS": retry_seconds}}}
        settings.CHANNEL_LAYERS = {"default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": url}], "prefix": "test-outage"}}}
        channel_layers.backends.clear()

    yield point
    channel_layers.backends.clear()


@pytest.fixture
def partner_token(agencies, city, categories):
    system = PartnerSystem(code="avl-test", name="AVL", agency=agencies["pn"], scopes=["alerts"])
    token = system.issue_token()
    system.save()
    return token


def post_alert(token, ref):
    return Client().post("/api/alerts/", {"category": "rixe", "lat": DARCY[0], "lon": DARCY[1],
                                          "title": "Bagarre", "source_ref": ref},
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_partner_alerts_are_stored_while_redis_is_unreachable(limiter_on, partner_token, caplog):
    limiter_on(f"redis://127.0.0.1:{free_port()}/0")

    started = time.monotonic()
    codes = [post_alert(partner_token, f"r{i}").status_code for i in range(3)]

    assert codes == [201, 201, 429]  # stored, and still limited (locally)
    assert Alert.objects.count() == 2
    assert time.monotonic() - started < 5
    assert ratelimit_cache.state()["fail_open"]
    assert caplog.text.count("Rate limiting fails open to a local, in-process limit") == 1


def test_citizen_reports_are_stored_while_redis_is_unreachable(limiter_on, city, categories,
                                                               settings, caplog):
    services_ensure_defaults()
    limiter_on(f"redis://127.0.0.1:{free_port()}/0")
    settings.CITIZEN_REPORT_RATE = "2/m"
    form = {"description": "Trois lampadaires éteints devant l'école.", "lat": 47.3075,
            "lon": 5.0325, "address_string": "Devant l'école", "attribut_lampadaires": "plusieurs"}
    url = reverse("citizens:report-form", args=["eclairage-public"])

    codes = [Client().post(url, form, REMOTE_ADDR="10.20.30.40").status_code for _ in range(3)]

    assert codes == [302, 302, 429]
    assert Report.objects.count() == 2 and Alert.objects.exists()
    assert "fails open" in caplog.text


def test_healthz_names_no_backend_to_strangers_and_shows_the_fail_open_to_staff(
        limiter_on, people, client):
    limiter_on(f"redis://127.0.0.1:{free_port()}/0")

    anonymous = client.get("/healthz")
    assert set(anonymous.json()) == {"status"}
    assert "redis" not in anonymous.content.decode().lower()

    client.force_login(people["operator"])  # control-room staff, but not an administrator
    assert set(client.get("/healthz").json()) == {"status"}

    client.force_login(people["administrator"])
    checks = client.get("/healthz").json()["checks"]
    assert checks["rate_limiter"]["fail_open"] is True
    assert checks["rate_limiter"]["mode"] == "local (fail-open)"
    assert "Connection" in checks["rate_limiter"]["error"]


@pytest.fixture
def private_redis():
    """A redis-server of this test's own on a free port: ``start()`` and ``stop()`` it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    port = free_port()
    server = {}

    def start():
        server["process"] = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop():
        server["process"].terminate()
        server["process"].wait(5)

    start()
    yield f"redis://127.0.0.1:{port}/0", start, stop
    if server["process"].poll() is None:
        stop()


def test_an_outage_fails_open_then_limits_are_shared_again(limiter_on, partner_token,
                                                           private_redis, caplog):
    url, start, stop = private_redis
    limiter_on(url, retry_seconds=0)
    assert post_alert(partner_token, "before").status_code == 201
    assert not ratelimit_cache.state()["fail_open"]

    stop()  # Redis goes away for a while
    assert post_alert(partner_token, "during").status_code == 201
    assert ratelimit_cache.state()["fail_open"]

    start()  # and comes back, empty: counting is shared again
    assert post_alert(partner_token, "after").status_code == 201
    assert not ratelimit_cache.state()["fail_open"]
    assert post_alert(partner_token, "after-2").status_code == 201
    assert post_alert(partner_token, "after-3").status_code == 429
    assert Alert.objects.count() == 4
    assert "Rate limiting is shared again" in caplog.text
