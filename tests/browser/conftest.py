"""End-to-end fixtures: the real ASGI application served by Daphne to the system Chromium.

The server runs in a separate interpreter (a fork would inherit this process's database
connections, pool threads and event loops) against the test database, so the tests write
committed rows (``django_db(transaction=True)``) for it to read. With SQLite, the test database
is made a file for the whole run when browser tests are selected: another process cannot open
an in-memory database.

Playwright's async API is used: its sync API marks an event loop as running in the test thread,
where Django would then refuse the tests' database work and the journal could not publish.

Module-level imports stay light: the server process imports this module before Django is set up.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
# A fast heartbeat makes gap detection (two heartbeats) quick without hiding anything.
HEARTBEAT_SECONDS = 0.25
START_TIMEOUT = 60


# --- the test database must be a file --------------------------------------------------------
def pytest_collection_finish(session):
    """Before any database is created, move an in-memory SQLite test database to a file."""
    if not any(HERE in Path(item.path).resolve().parents for item in session.items):
        return
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if not settings_dict["ENGINE"].endswith("sqlite3"):
        return
    test_name = settings_dict["TEST"].get("NAME")
    if test_name and test_name != ":memory:" and "mode=memory" not in str(test_name):
        return
    folder = tempfile.mkdtemp(prefix="controlroom-browser-")
    session.config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    settings_dict["TEST"]["NAME"] = os.path.join(folder, "test.sqlite3")


# --- the server process ----------------------------------------------------------------------
def serve(config: dict) -> None:
    """Entry point of the server process: the project's settings, pointed at the test database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlroom.settings")
    from django.conf import global_settings, settings

    settings.DATABASES["default"]["NAME"] = config["database"]
    settings.CHANNEL_LAYERS = config["channel_layers"]
    settings.LIVE_HEARTBEAT_SECONDS = config["heartbeat"]
    settings.MEDIA_ROOT = config["media_root"]
    # The test users' passwords are hashed with the fast hasher the test settings use.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *global_settings.PASSWORD_HASHERS,
    ]

    import django

    django.setup()
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from controlroom.asgi import application

    port_file = Path(config["port_file"])

    def announce():
        # Written whole, then renamed: the tests never read half a port number.
        partial = port_file.with_suffix(".partial")
        partial.write_text(str(server.listening_addresses[0][1]))
        partial.rename(port_file)

    server = Server(
        # Static files straight from the source tree, as Channels' live server test case does.
        application=ASGIStaticFilesHandler(application),
        endpoints=build_endpoint_description_strings(host="127.0.0.1", port=config["port"]),
        ready_callable=announce,
    )
    server.run()


class LiveServer:
    """A Daphne process serving ``controlroom.asgi:application``. It can stop and start again
    on the same port, as consoles see a server restart."""

    def __init__(self, config: dict, folder: Path):
        self.config = config
        self.folder = folder
        self.port = 0  # any free port the first time, then the same one
        self.process = None
        self.log = folder / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        port_file = self.folder / "port"
        port_file.unlink(missing_ok=True)
        config = {**self.config, "port": self.port, "port_file": str(port_file)}
        code = (
            "import json, sys; from tests.browser import conftest; "
            "conftest.serve(json.loads(sys.argv[1]))"
        )
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, json.dumps(config)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The test server did not start:\n{self.log_tail()}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def ensure_running(self):
        """Start again after a test that stopped the server did not get to restart it."""
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self.start()

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _require_browser():
    """Playwright's async API, or a skip (a failure with CONTROLROOM_REQUIRE_SERVICES=1)."""
    from tests.conftest import require

    require(CHROMIUM.exists(), f"needs Chromium at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        async_playwright = None
    require(async_playwright is not None, "needs Playwright: pip install -e '.[test]'")
    return async_playwright


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, isolated_channel_layer, tmp_path_factory):
    """The real ASGI application on a free port, reading and writing the test database."""
    _require_browser()  # no server to start for tests that will be skipped
    from django.conf import settings
    from django.db import connections

    server = LiveServer(
        {
            "database": str(connections["default"].settings_dict["NAME"]),
            "channel_layers": settings.CHANNEL_LAYERS,  # with this run's Redis prefix
            "heartbeat": HEARTBEAT_SECONDS,
            "media_root": str(tmp_path_factory.mktemp("asgi-media")),
        },
        tmp_path_factory.mktemp("asgi-server"),
    )
    server.start()
    yield server
    server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows what the server logged."""
    report = yield
    server = item.funcargs.get("asgi_server") if hasattr(item, "funcargs") else None
    if report.failed and server is not None:
        report.sections.append(("test server log", server.log_tail()))
    return report


# --- the browser ---------------------------------------------------------------------------------
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium():
    """Headless system Chromium, driven by Playwright (which never downloads a browser here)."""
    async_playwright = _require_browser()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(chromium, asgi_server):
    """A fresh French-speaking browser context; any script error, or anything the
    Content-Security-Policy refuses, fails the test."""
    asgi_server.ensure_running()
    context = await chromium.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    yield page
    await context.close()
    assert not errors, f"script errors in the page: {errors}"
