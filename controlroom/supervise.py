"""Keep one process of ``make run`` alive, and stop it cleanly: ``python -m controlroom.supervise
[--grace SECONDS] -- command…`` (one per line of the Procfile).

honcho stops every process as soon as one of them ends, and on Ctrl-C it sends SIGTERM to each
process group, then SIGKILL a few seconds later (``controlroom.run_procfile`` makes that wait
longer than the grace below). Under this wrapper:

- a process that dies is started again, after a pause that doubles while it keeps dying (up to
  30 s), and honcho never sees it go: one crashed worker no longer takes the web server down;
- the command runs in a process group of its own and SIGTERM reaches only its main process, not
  its children: a Celery worker stops its pool in order (warm shutdown) instead of watching its
  pool processes killed under it;
- whatever still runs ``--grace`` seconds after the stop is killed with its children.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time

MAX_PAUSE = 30.0
HEALTHY_AFTER = 60.0  # a run this long resets the pause
GRACE_SECONDS = 12.0  # an idle Celery worker's warm shutdown takes about eight


def say(text: str) -> None:
    print(f"supervise: {text}", file=sys.stderr, flush=True)


def kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Supervisor:
    def __init__(self, command: list[str], *, grace: float):
        self.command = command
        self.grace = grace
        self.stopping = threading.Event()
        self.child: subprocess.Popen | None = None

    def stop(self, signum, frame) -> None:
        self.stopping.set()
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)  # the main process only

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        pause = 1.0
        while not self.stopping.is_set():
            started = time.monotonic()
            self.child = subprocess.Popen(self.command, start_new_session=True)
            if self.stopping.is_set():  # a signal between the check and the start
                self.child.send_signal(signal.SIGTERM)
            code = self.wait()
            kill_group(self.child.pid, signal.SIGKILL)  # what it left behind
            if self.stopping.is_set():
                return 1 if code == -signal.SIGKILL else 0
            if time.monotonic() - started > HEALTHY_AFTER:
                pause = 1.0
            say(f"{self.command[0]} ended (code {code}); started again in {pause:.0f} s")
            if self.stopping.wait(pause):
                return 0
            pause = min(pause * 2, MAX_PAUSE)
        return 0

    def wait(self) -> int:
        """The child's exit code; once stopping, SIGKILL to its whole group after ``grace``
        seconds (exit code -9)."""
        while not self.stopping.is_set():
            try:
                return self.child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
        try:
            return self.child.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            say(f"{self.command[0]} still running after {self.grace:.0f} s: killed")
            kill_group(self.child.pid, signal.SIGKILL)
            return self.child.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controlroom.supervise")
    parser.add_argument("--grace", type=float, default=GRACE_SECONDS)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is needed")
    return Supervisor(command, grace=args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
