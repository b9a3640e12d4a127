"""Cameras: a grace period after the worker starts, one open offline alert across restarts,
resolved (journaled) when frames arrive again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from controlroom import liveness
from controlroom.models import Event
from incidents.models import Alert
from video import services
from video.models import Camera

pytestmark = pytest.mark.django_db


def test_a_camera_gets_a_grace_period_then_one_alert_resolved_when_frames_return(
        make_camera, intruder_clip, settings, monkeypatch):
    camera = make_camera("cam-restart", intruder_clip)
    now = timezone.now()
    services.camera_frames_seen(camera_id=camera.pk, fps=5.0, now=now - timedelta(hours=1))
    settings.EQUIPMENT_OFFLINE_GRACE_SECONDS = 120
    monkeypatch.setattr(liveness, "_started_at", now)

    assert services.cameras_check_heartbeats(now=now + timedelta(seconds=2)) == 0
    assert services.cameras_check_heartbeats(now=now + timedelta(seconds=121)) == 1

    # Back, then silent again after a restart two days later: the same alert counts again...
    Alert.objects.update(last_seen_at=now - timedelta(days=2))
    Camera.objects.filter(pk=camera.pk).update(online=True)
    monkeypatch.setattr(liveness, "_started_at", None)
    assert services.cameras_check_heartbeats(now=now + timedelta(seconds=200)) == 1
    alert = Alert.objects.get()
    assert alert.repeat_count == 2 and alert.status == Alert.Status.NEW

    # ...and frames arriving again resolve it, journaled.
    services.camera_frames_seen(camera_id=camera.pk, fps=5.0)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.DISMISSED and "images" in alert.dismiss_note
    assert Event.objects.filter(type="alert.resolved", subject_id=str(alert.pk)).count() == 1
