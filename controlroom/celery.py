"""The Celery application; its configuration comes from Django's settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init, worker_shutting_down

from controlroom import leases

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlroom.settings")

app = Celery("controlroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_shutting_down.connect
def end_analysis_windows(**kwargs):
    """A worker asked to stop ends its analysis windows early instead of waiting for them."""
    leases.stopping.set()


@worker_init.connect
def _heartbeat_checker_started(**kwargs):
    """The worker checks heartbeats: its start opens the grace period (controlroom.liveness)."""
    from controlroom import liveness

    liveness.mark_started()
