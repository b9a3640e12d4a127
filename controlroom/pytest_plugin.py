"""The test run's own broker folder: a pytest plugin (``-p controlroom.pytest_plugin``).

Loaded before Django's settings, it points ``CONTROLROOM_CELERY_DIR`` at a temporary folder that
the processes the tests start (the browser tests' server, Celery workers) inherit: tasks queued
by tests never wait in the queue that ``make run`` works from, and the folder goes at the end.
"""

import os
import shutil
import tempfile

FOLDER = tempfile.mkdtemp(prefix="controlroom-test-celery-")
os.environ["CONTROLROOM_CELERY_DIR"] = FOLDER


def pytest_unconfigure(config):
    shutil.rmtree(FOLDER, ignore_errors=True)
