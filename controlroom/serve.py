"""The web server: ``python -m controlroom.serve [--host H] [--port P] [--processes N]``.

One process (the embedded default) runs the ASGI server directly. With ``--processes N`` (or
``WEB_PROCESSES``), N server processes share one address: each gets a listening socket of its own
bound with ``SO_REUSEPORT``, and the kernel spreads new connections over them. The consoles of
every process are fed by the channel layer (Redis), each process's live hub receiving each journal
event once. A server process that dies is started again on the same socket, so its address never
refuses a connection; SIGTERM stops them all.

``--server`` picks the ASGI server: ``uvicorn`` (uvloop, httptools and the ``websockets``
implementation; the default, measured faster for live push in ``bench/live_push.py``) or
``daphne``.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

APPLICATION = "controlroom.asgi:application"
SERVERS = ("uvicorn", "daphne")


def server_command(server: str, *, fd: int | None = None, host: str = "127.0.0.1",
                   port: int = 8000, application: str = APPLICATION) -> list[str]:
    """The command line of one server process, on an inherited socket or on host:port."""
    if server == "daphne":
        where = ["--fd", str(fd)] if fd is not None else ["-b", host, "-p", str(port)]
        return [sys.executable, "-m", "daphne", *where, "--proxy-headers", application]
    if server == "uvicorn":
        where = ["--fd", str(fd)] if fd is not None else ["--host", host, "--port", str(port)]
        return [sys.executable, "-m", "uvicorn", *where, "--loop", "uvloop", "--http",
                "httptools", "--ws", os.environ.get("UVICORN_WS", "websockets-sansio"),
                "--proxy-headers", "--no-server-header",
                "--log-level", os.environ.get("UVICORN_LOG_LEVEL", "warning"),
                "--timeout-graceful-shutdown", "2", application]
    raise ValueError(f"unknown server {server!r}: choose one of {', '.join(SERVERS)}")


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


class Group:
    """N server processes on N sockets sharing one port."""

    def __init__(self, server: str, host: str, port: int, processes: int,
                 application: str = APPLICATION):
        self.server, self.application = server, application
        self.sockets = [listening_socket(host, port) for _ in range(processes)]
        self.children: dict[int, subprocess.Popen] = {}
        self.stopping = False

    def start(self, index: int) -> None:
        fd = self.sockets[index].fileno()
        self.children[index] = subprocess.Popen(
            server_command(self.server, fd=fd, application=self.application), pass_fds=[fd])

    def stop(self, signum=None, frame=None) -> None:
        self.stopping = True
        # Ours closed, the address refuses new connections as soon as the servers close theirs,
        # instead of queueing them on sockets nobody will accept from any more.
        for listener in self.sockets:
            listener.close()
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for index in range(len(self.sockets)):
            self.start(index)
        while not self.stopping:
            time.sleep(0.2)
            for index, child in list(self.children.items()):
                if child.poll() is not None and not self.stopping:
                    print(f"serve: server process {child.pid} ended ({child.returncode}); "
                          "starting it again", file=sys.stderr, flush=True)
                    time.sleep(1)
                    self.start(index)
        deadline = time.monotonic() + 10
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--processes", type=int,
                        default=int(os.environ.get("WEB_PROCESSES", "1")))
    parser.add_argument("--server", choices=SERVERS,
                        default=os.environ.get("WEB_SERVER", "uvicorn"))
    parser.add_argument("--application", default=APPLICATION, help="module:attribute")
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if args.processes > 1 and not os.environ.get("REDIS_URL"):
        parser.error("several web processes need REDIS_URL: the channel layer that feeds the "
                     "consoles of every process")
    if args.processes == 1:
        command = server_command(args.server, host=args.host, port=args.port,
                                 application=args.application)
        os.execv(command[0], command)
    return Group(args.server, args.host, args.port, args.processes, args.application).run()


if __name__ == "__main__":
    sys.exit(main())
