"""What the benchmarks share: a Daphne server of the project on a free port, and percentiles.

No Django import: each benchmark sets Django up itself, before or after starting the server.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def daphne(log_path: str, env: dict[str, str] | None = None):
    """Serve ``controlroom.asgi:application`` on a free port; yields (base URL, process)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "controlroom.asgi:application"],
        cwd=ROOT, env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL, stderr=open(log_path, "w"),
    )
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(
                        f"The server did not start (see its log: {log_path}).") from None
                time.sleep(0.1)
        else:
            raise SystemExit(f"The server did not start in time (see its log: {log_path}).")
        yield f"127.0.0.1:{port}", server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def bench_database_url(configured: str, name: str | None, default: str) -> str:
    """A database of the benchmark's own beside the configured one (``<name>_<default>``)."""
    if not configured.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{ROOT / 'var' / (name or default.replace('_', '-'))}.sqlite3"
    url = urllib.parse.urlsplit(configured)
    name = name or f"{url.path.lstrip('/') or 'controlroom'}_{default}"
    return urllib.parse.urlunsplit(url._replace(path=f"/{name}"))


def prepare_database(url: str, *, reuse: bool) -> bool:
    """An empty database at ``url`` (or the existing one with ``reuse``). True if it is new."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite://"))
        if reuse and path.exists():
            return False
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return True
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                    [name]).fetchone()
        if reuse and exists:
            return False
        connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def django_on_bench_database(name: str | None, default: str, *, reuse: bool) -> bool:
    """Point Django at a database of the benchmark's own (see ``bench_database_url``), empty
    unless ``reuse``, and set Django up; True if the database is new (to migrate and fill)."""
    url = bench_database_url(os.environ.get("DATABASE_URL", ""), name, default)
    if url.startswith("sqlite"):
        print("note: without DATABASE_URL this runs on SQLite; the figures that count are "
              "PostgreSQL's")
    fresh = prepare_database(url, reuse=reuse)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlroom.settings")
    import django

    django.setup()
    return fresh
