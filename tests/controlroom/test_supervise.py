"""The wrapper of ``make run``'s processes (controlroom/supervise.py): a process that dies is
started again, and a stop reaches the main process only, then its group is killed after the
grace; a Celery worker asked to stop ends its analysis windows early."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def supervise(tmp_path, script: str, *options) -> subprocess.Popen:
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(script))
    # Its own process group, as honcho starts it: the stop below is honcho's killpg.
    return subprocess.Popen([sys.executable, "-m", "controlroom.supervise", *options, "--",
                             sys.executable, str(program), str(tmp_path)],
                            cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE, text=True)


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def wait_for(condition, seconds=20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_process_that_dies_is_started_again_and_a_stop_ends_it(tmp_path):
    wrapper = supervise(tmp_path, """
        import pathlib, sys, time
        log = pathlib.Path(sys.argv[1]) / "starts"
        with log.open("a") as f:
            f.write("start\\n")
        if len(log.read_text().split()) == 1:
            sys.exit(3)  # the first run crashes
        time.sleep(60)
    """)
    try:
        assert wait_for(lambda: lines(tmp_path / "starts") == ["start", "start"])
        assert wrapper.poll() is None  # honcho would see nothing
        os.killpg(wrapper.pid, signal.SIGTERM)
        assert wrapper.wait(timeout=10) == 0
    finally:
        wrapper.kill()
    assert "ended (code 3); started again" in wrapper.stderr.read()


def test_a_stop_reaches_the_main_process_only_and_its_children_are_left_to_it(tmp_path):
    wrapper = supervise(tmp_path, """
        import multiprocessing, pathlib, signal, sys, time
        folder = pathlib.Path(sys.argv[1])

        def pool_process():
            signal.signal(signal.SIGTERM, lambda *a: (folder.joinpath("child-killed").touch(),
                                                      sys.exit(1)))
            time.sleep(60)

        if __name__ == "__main__":
            child = multiprocessing.Process(target=pool_process)
            child.start()
            stopping = []
            signal.signal(signal.SIGTERM, lambda *a: stopping.append(1))
            folder.joinpath("ready").touch()
            while not stopping:
                time.sleep(0.05)
            child.kill()  # a warm shutdown: the main process ends its pool itself
            child.join()
            folder.joinpath("main-stopped").touch()
    """)
    try:
        assert wait_for((tmp_path / "ready").exists)
        os.killpg(wrapper.pid, signal.SIGTERM)
        assert wrapper.wait(timeout=10) == 0
    finally:
        wrapper.kill()
    assert (tmp_path / "main-stopped").exists()
    assert not (tmp_path / "child-killed").exists()


def test_a_process_deaf_to_sigterm_is_killed_with_its_children_after_the_grace(tmp_path):
    wrapper = supervise(tmp_path, """
        import pathlib, signal, subprocess, sys, time
        folder = pathlib.Path(sys.argv[1])
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        folder.joinpath("child").write_text(str(child.pid))
        folder.joinpath("ready").touch()
        while True:
            time.sleep(0.05)
    """, "--grace", "1.5")
    try:
        assert wait_for((tmp_path / "ready").exists)
        started = time.monotonic()
        os.killpg(wrapper.pid, signal.SIGTERM)
        assert wrapper.wait(timeout=10) == 1
        assert 1.4 < time.monotonic() - started < 5
    finally:
        wrapper.kill()
    assert "still running after 2 s: killed" in wrapper.stderr.read()
    child = int((tmp_path / "child").read_text())
    assert wait_for(lambda: not os.path.exists(f"/proc/{child}") or
                    open(f"/proc/{child}/stat").read().split()[2] == "Z", 5)


def test_a_worker_asked_to_stop_ends_its_analysis_windows_at_their_next_lease_check():
    from celery.signals import worker_shutting_down

    from controlroom import leases

    try:
        worker_shutting_down.send(sender="sound@test", sig="SIGTERM", how="Warm", exitcode=0)
        assert leases.extend(object, pk=1, token="t", seconds=60) is False
    finally:
        leases.stopping.clear()


def test_honcho_waits_for_the_supervisors_grace_before_it_kills():
    import honcho.manager

    from controlroom import run_procfile, supervise

    assert run_procfile.main is not None
    assert honcho.manager.KILL_WAIT > supervise.GRACE_SECONDS
