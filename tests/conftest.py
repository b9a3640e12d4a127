"""Shared fixtures: one user per role, with a liaison of another agency, and real services.

CI runs the suite on PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``). With
``CONTROLROOM_REQUIRE_SERVICES=1`` a test that needs one of them fails instead of skipping.
"""

import io
import os
import sys
import uuid
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test import override_settings
from rest_framework.throttling import SimpleRateThrottle
from shapely.geometry import Polygon

from controlroom import services
from controlroom.models import Agency, User
from demo import city as city_demo
from incidents.models import Category
from incidents.services import incidents as incident_services

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REQUIRE_SERVICES = os.environ.get("CONTROLROOM_REQUIRE_SERVICES") == "1"
# The OASIS CAP 1.2 schema: the shared copy beside the project, else the project's own copy of
# this published standard (tests/data), so a clone elsewhere still validates its messages.
CAP_SCHEMA = next(path for path in (SHARED / "schemas" / "cap12.xsd",
                                    ROOT / "tests" / "data" / "cap12.xsd") if path.is_file())


def pytest_configure(config):
    """A larger connection pool for the test run than the production default.

    Each WebSocket test runs its consumers on an event loop of its own; a loop torn down while a
    database call of its worker threads is under way can leave that pooled connection checked
    out until the end of the run. A long-lived server runs one loop per process.
    """
    options = django_settings.DATABASES["default"].get("OPTIONS", {})
    if "pool" in options and isinstance(options["pool"], dict):
        options["pool"]["max_size"] = max(options["pool"].get("max_size", 20), 40)


@receiver(connection_created)
def allow_emptying_the_journal(sender, connection, **kwargs):
    """Transactional tests empty the test database with TRUNCATE, which the journal refuses
    to any session that does not say so (controlroom/migrations/0003)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET controlroom.allow_journal_truncate = 'on'")


def _flush_retrying_on_deadlock():
    """Transactional tests empty the database with one TRUNCATE of every table, which takes the
    tables' locks one by one; a query still running in a server process the tests started (a
    browser test's page, a live hub's read) can take two of them in the other order, and
    PostgreSQL then cancels the TRUNCATE as a deadlock. Emptying again is then safe."""
    import time

    from django.db import OperationalError
    from django.db.backends.postgresql.operations import DatabaseOperations

    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(3):
            try:
                return flush(self, sql_list)
            except OperationalError as error:
                if "deadlock detected" not in str(error) or attempt == 2:
                    raise
                time.sleep(0.2)

    DatabaseOperations.execute_sql_flush = execute_sql_flush


_flush_retrying_on_deadlock()


def require(condition: bool, reason: str):
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONTROLROOM_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture
def needs_redis():
    require(bool(django_settings.REDIS_URL), "needs Redis: set REDIS_URL")


@pytest.fixture
def needs_postgres():
    require(
        django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "needs PostgreSQL: set DATABASE_URL",
    )


@pytest.fixture(scope="session", autouse=True)
def isolated_channel_layer():
    """Tests get their own Redis key prefix, so a running control room is never disturbed."""
    config = django_settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
    if "prefix" in config:
        config["prefix"] = f"test-{uuid.uuid4().hex[:8]}"
    channel_layers.backends.clear()
    yield


@pytest.fixture(autouse=True)
def french_again():
    """A request in English activates English in the test's thread: the next test starts in
    French again."""
    yield
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def quick_settings(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Each test's journal starts empty: so does its anchor.
    settings.JOURNAL_ANCHOR_FILE = tmp_path / "journal_anchor"
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    # Real hashing costs ~0.3 s a password; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Every test client comes from 127.0.0.1: rate-limit tests set their own rate and address.
    settings.CITIZEN_REPORT_RATE = settings.CITIZEN_TRACKING_RATE = "10000/m"
    settings.CITIZEN_REPORT_ATTEMPT_RATE = "10000/m"
    settings.CITIZEN_PENDING_ROOT = tmp_path / "citizen-pending"
    settings.OPEN311_POST_RATE = settings.OPEN311_READ_RATE = "10000/m"
    # The partner API's count lives in a process-wide cache, and row ids come back after a
    # rollback: partners of many tests within a minute would share one count.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {**SimpleRateThrottle.THROTTLE_RATES, "partner": "10000/min"})


@pytest.fixture
def agencies(db):
    def make(code, name, kind, own=False):
        return services.agency_ensure(code=code, name=name, kind=kind, operates_control_room=own)

    return {
        "pm": make("pm", "Police municipale", Agency.Kind.MUNICIPAL_POLICE, own=True),
        "pn": make("pn", "Police nationale", Agency.Kind.NATIONAL_POLICE),
        "sdis": make("sdis", "Sapeurs-pompiers", Agency.Kind.FIRE),
    }


PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def people(agencies):
    def make(username, role, agency):
        return services.user_ensure(username=username, password=PASSWORD, role=role, agency=agency)

    return {
        "operator": make("op", "operator", agencies["pm"]),
        "supervisor": make("sup", "supervisor", agencies["pm"]),
        "liaison_pn": make("pn1", "agency_liaison", agencies["pn"]),
        "liaison_sdis": make("sdis1", "agency_liaison", agencies["sdis"]),
        "administrator": make("adm", "administrator", agencies["pm"]),
    }


@pytest.fixture
def api(client):
    """A logged-in test client factory: ``api(user)``."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(scope="session", autouse=True)
def close_thread_connections(django_db_setup, django_db_blocker):
    """Connections opened in worker threads (database_sync_to_async) would keep the test
    database busy and stop its removal: end them before the database is dropped."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


# --- the city and the taxonomy, shared by the apps' tests --------------------------------------
@pytest.fixture
def city(db):
    city = services.city_ensure(
        name="Dijon", boundary=city_demo._geojson(Polygon(city_demo.DIJON_OUTLINE))
    )
    polygons = city_demo.quartier_polygons()
    for code, name, _centre in city_demo.QUARTIERS:
        services.sector_ensure(city=city, code=code, name=name, geometry=polygons[code])
    return city


@pytest.fixture
def categories(db):
    incident_services.category_ensure_defaults()
    return {category.code: category for category in Category.objects.all()}


# --- the demo city, small: a few days of observatory history, media from var/demo-cache/ ------
SMALL_DEMO_DAYS = 3


def load_small_demo(**options) -> str:
    """``load_demo`` with a few days of observatory history instead of a year (the recordings
    and clips come from the cache: drawn once per version). Returns what it printed."""
    out = io.StringIO()
    call_command("load_demo", observatory_days=SMALL_DEMO_DAYS, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="class")
def shared_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small demo, loaded once for a class of tests: each test's changes roll back to it
    (its own transaction is a savepoint inside this one), as with Django's ``setUpTestData``.
    Its users, keyed by username."""
    folder = tmp_path_factory.mktemp("shared-demo")
    quick = override_settings(
        MEDIA_ROOT=folder / "media", JOURNAL_ANCHOR_FILE=folder / "journal_anchor",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock():
        quick.enable()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            load_small_demo()
            users = {user.username: user for user in User.objects.all()}
        except BaseException:
            atomic.__exit__(*sys.exc_info())
            quick.disable()
            raise
    yield users
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
        quick.disable()
