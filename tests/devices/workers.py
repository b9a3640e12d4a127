"""Real Celery workers and a private Redis for the fault tests: processes to kill and restart.

A worker runs in a separate interpreter against the test database (the tests write committed
rows), with an embedded beat whose schedule holds only the reconciler. The Redis server is one
of the test's own, on a free port: restarting it disturbs nobody.

Module-level imports stay light: the worker process imports this module before Django is set up.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60


def run_worker(config: dict) -> None:
    """Entry point of the worker process: the project's settings, pointed at the test database,
    the test's broker and MQTT topics."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlroom.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = config["database"]
    for name, value in config["settings"].items():
        setattr(settings, name, value)
    import django

    django.setup()
    from controlroom.celery import app

    app.worker_main(["worker", "--pool", "solo", "--loglevel", "INFO", "--without-gossip",
                     "--without-mingle", "--hostname", config["hostname"], "--beat",
                     "--schedule", config["schedule"]])


class Worker:
    def __init__(self, config: dict, folder: Path, name: str):
        self.config = {**config, "hostname": f"{name}@%h",
                       "schedule": str(folder / f"{name}-beat")}
        self.log = folder / f"{name}.log"
        self.process = None

    def start(self) -> "Worker":
        code = ("import json, sys; from tests.devices import workers; "
                "workers.run_worker(json.loads(sys.argv[1]))")
        with self.log.open("a") as log:
            self.process = subprocess.Popen([sys.executable, "-c", code, json.dumps(self.config)],
                                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while " ready." not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"The worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL to the worker and all it started: nothing is cleaned up, nothing acknowledged."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """``redis-server`` on a port of its own, without persistence: a restart loses every key."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The private Redis did not start.")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def publishing_to(url: str):
    """This process's Celery app sends its task messages to the Redis at ``url`` (no key
    prefix: it is the test's own) for a while."""
    from controlroom.celery import app

    def forget_connections():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    names = ("broker_url", "broker_transport", "broker_transport_options")
    saved = {name: app.conf[name] for name in names}
    forget_connections()
    app.conf.update(broker_url=url, broker_transport=None, broker_transport_options={})
    try:
        yield
    finally:
        forget_connections()
        app.conf.update(saved)
