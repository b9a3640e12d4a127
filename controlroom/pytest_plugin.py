"""The test run's own broker: a pytest plugin (``-p controlroom.pytest_plugin``).

Loaded before Django's settings, it points ``CONTROLROOM_CELERY_DIR`` at a temporary folder (the
embedded broker) and ``CONTROLROOM_CELERY_KEY_PREFIX`` at a prefix of its own (Redis), which the
processes the tests start (the browser tests' server, Celery workers) inherit: tasks queued by
tests never wait in the queue that ``make run`` works from. The folder goes at the end.
"""

import os
import shutil
import tempfile
import uuid

FOLDER = tempfile.mkdtemp(prefix="controlroom-test-celery-")
os.environ["CONTROLROOM_CELERY_DIR"] = FOLDER
os.environ["CONTROLROOM_CELERY_KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}:"


def pytest_unconfigure(config):
    shutil.rmtree(FOLDER, ignore_errors=True)
