"""The analysis loop as the workers run it: windows over a generated clip, events turned into
deduplicated alerts with evidence, statistics without images, leases, failures and heartbeats."""

from datetime import timedelta

import cv2
import numpy as np
import pytest
from django.utils import timezone

from controlroom.models import Event
from incidents.models import Alert
from video import analysis, services
from video.analytics.types import Box
from video.analytics.types import Event as RuleEvent
from video.models import Camera, Snapshot, VideoEvent, ZoneStatistic

pytestmark = pytest.mark.django_db


def window(camera, seconds=60, token="t1", frames=100):
    """One window, unpaced, of ``frames`` frames (at 5 fps: 100 frames are 20 s of the clip)."""
    assert services.lease_extend(camera_id=camera.pk, token=token, seconds=seconds)
    return analysis.analyse_window(camera.pk, token=token, seconds=seconds, realtime=False,
                                   limit=frames)


@pytest.fixture(autouse=True)
def fresh_pipelines():
    analysis._pipelines.clear()
    yield
    analysis._pipelines.clear()


def test_a_window_turns_an_intrusion_into_an_alert_with_evidence(tram_camera):
    result = window(tram_camera)

    assert result.stopped == "" and result.frames == 100
    (event,) = VideoEvent.objects.filter(rule="intrusion")
    assert event.zone == "voies" and event.camera == tram_camera
    alert = event.alert
    assert alert.source == Alert.Source.CAMERA and alert.category.code == "intrusion_zone"
    assert alert.title == "Intrusion (voies) — Cam Tram"
    assert alert.dedup_key == "video:cam-tram:intrusion:voies"
    assert alert.evidence["snapshot"] == event.snapshot_id
    assert alert.evidence["snapshot_url"] == f"/video/preuves/{event.snapshot_id}.jpg"
    assert (alert.lat, alert.lon) == (tram_camera.lat, tram_camera.lon)
    snapshot = event.snapshot
    assert snapshot.image and snapshot.unblurred
    assert snapshot.expires_at - snapshot.taken_at == timedelta(days=30)

    tram_camera.refresh_from_db()
    assert tram_camera.online and tram_camera.last_frame_at is not None
    assert tram_camera.measured_fps > 0 and tram_camera.position > 10
    assert Event.objects.filter(type="camera.online").count() == 1


def test_line_crossings_and_people_per_zone_are_statistics_not_alerts(tram_camera):
    window(tram_camera)

    assert not VideoEvent.objects.filter(rule="line_crossing").exists()
    crossing = ZoneStatistic.objects.get(camera=tram_camera, zone="passage")
    assert crossing.crossings_forward + crossing.crossings_backward == 1
    people = ZoneStatistic.objects.filter(camera=tram_camera, zone="voies")
    assert sum(row.samples for row in people) > 0
    assert max(row.people_max for row in people) == 1
    assert all(row.period_start.minute % 5 == 0 and row.period_start.second == 0
               for row in ZoneStatistic.objects.all())


def test_the_next_window_resumes_the_file_where_the_last_one_stopped(tram_camera, settings):
    settings.VIDEO_STATISTICS_MINUTES = 60
    Camera.objects.filter(pk=tram_camera.pk).update(position=12.0)

    result = window(tram_camera, frames=20)

    assert result.frames == 20
    tram_camera.refresh_from_db()
    assert tram_camera.position == pytest.approx(12.0 + 20 / 5, abs=0.15)
    window(tram_camera, frames=10)  # the loop goes on with its lease
    tram_camera.refresh_from_db()
    assert tram_camera.position == pytest.approx(16.0 + 10 / 5, abs=0.15)


def test_recording_the_same_event_twice_keeps_one_event_and_one_alert(tram_camera):
    frame = np.full((360, 640, 3), 120, np.uint8)
    event = RuleEvent(rule="intrusion", zone="voies", confidence=0.9, t=12.0,
                      wall_time=timezone.now(), box=Box(400, 220, 28, 70))
    key = analysis.event_key(tram_camera, event, live_stream=False)

    first = services.event_record(camera=tram_camera, event=event, frame=frame, persons=[],
                                  key=key)
    again = services.event_record(camera=tram_camera, event=event, frame=frame, persons=[],
                                  key=key)

    assert first.created and not again.created
    assert (again.event_id, again.alert_id) == (first.event_id, first.alert_id)
    assert VideoEvent.objects.count() == Alert.objects.count() == Snapshot.objects.count() == 1


def test_a_lasting_situation_is_one_alert_counted_again(tram_camera):
    frame = np.full((360, 640, 3), 120, np.uint8)
    now = timezone.now()
    keys = []
    for t in (12.0, 30.0):
        event = RuleEvent(rule="intrusion", zone="voies", confidence=0.9, t=t,
                          wall_time=now + timedelta(seconds=t))
        keys.append(analysis.event_key(tram_camera, event, live_stream=False))
        services.event_record(camera=tram_camera, event=event, frame=frame, persons=[],
                              key=keys[-1])
    other_zone = RuleEvent(rule="intrusion", zone="quai", confidence=0.9, t=31.0, wall_time=now)
    services.event_record(camera=tram_camera, event=other_zone, frame=frame, persons=[],
                          key=analysis.event_key(tram_camera, other_zone, live_stream=False))

    assert keys[0] != keys[1]
    assert VideoEvent.objects.count() == 3
    alerts = Alert.objects.order_by("pk")
    assert [a.repeat_count for a in alerts] == [2, 1]


def test_evidence_is_masked_and_blurred_and_the_unblurred_copy_still_masked(tram_camera):
    # A sharp checkerboard: blurring shows as lost contrast.
    tile = (np.indices((360, 640)).sum(axis=0) // 8 % 2 * 255).astype(np.uint8)
    frame = cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR)
    person = Box(400, 200, 60, 120)
    snapshot = services.snapshot_store(camera=tram_camera, frame=frame, persons=[person],
                                       taken_at=timezone.now())

    def read(field):
        with field.open("rb") as stored:
            return cv2.imdecode(np.frombuffer(stored.read(), np.uint8), cv2.IMREAD_GRAYSCALE)

    blurred, plain = read(snapshot.image), read(snapshot.unblurred)
    masked = (slice(0, 100), slice(0, 150))  # MASK: x < 0.25, y < 0.3
    assert blurred[masked].max() < 20 and plain[masked].max() < 20
    inside = (slice(person.y + 10, person.y + person.h - 10),
              slice(person.x + 10, person.x + person.w - 10))
    elsewhere = (slice(200, 320), slice(100, 160))
    assert plain[inside].std() > 100 and blurred[elsewhere].std() > 100
    assert blurred[inside].std() < 30


def test_snapshots_expire_with_their_files(tram_camera, settings):
    frame = np.full((360, 640, 3), 90, np.uint8)
    old = services.snapshot_store(camera=tram_camera, frame=frame, persons=[],
                                  taken_at=timezone.now() - timedelta(days=31))
    kept = services.snapshot_store(camera=tram_camera, frame=frame, persons=[],
                                   taken_at=timezone.now() - timedelta(days=29))
    old_files = [old.image.path, old.unblurred.path]

    assert services.snapshots_expire() == 1

    assert list(Snapshot.objects.all()) == [kept]
    from pathlib import Path
    assert not any(Path(path).exists() for path in old_files)
    assert Path(kept.image.path).exists()
    assert Event.objects.filter(type="video.snapshots_expired", payload__count=1).exists()


def test_one_loop_per_camera_the_lease_passes_on_only_when_it_runs_out(tram_camera):
    now = timezone.now()
    assert services.lease_extend(camera_id=tram_camera.pk, token="a", seconds=60, now=now)
    assert services.lease_extend(camera_id=tram_camera.pk, token="a", seconds=60, now=now)
    assert not services.lease_extend(camera_id=tram_camera.pk, token="b", seconds=60, now=now)
    assert services.cameras_due(now=now) == []

    later = now + timedelta(seconds=60 + services.LEASE_MARGIN_SECONDS + 1)
    (due,) = services.cameras_due(now=later)
    assert due[0] == tram_camera.pk and due[1] != "a"
    assert not services.lease_extend(camera_id=tram_camera.pk, token="a", seconds=60, now=later)
    # A window whose lease was taken over stops at once.
    result = analysis.analyse_window(tram_camera.pk, token="a", seconds=5, realtime=False)
    assert result.stopped == "lease" and result.frames == 0


def test_a_camera_out_of_service_is_not_analysed(tram_camera):
    Camera.objects.filter(pk=tram_camera.pk).update(enabled=False)
    assert services.cameras_due() == []
    assert not services.lease_extend(camera_id=tram_camera.pk, token="a", seconds=5)


def test_an_unreadable_stream_is_retried_later_each_time_later(make_camera, settings, tmp_path):
    settings.VIDEO_RETRY_BACKOFF_SECONDS = (10.0, 30.0)
    camera = make_camera("cam-absente", tmp_path / "absent.avi")

    delays = []
    for _ in range(3):
        result = window(camera, token=f"t{len(delays)}")
        assert result.stopped == "source"
        camera.refresh_from_db()
        delays.append((camera.retry_at - timezone.now()).total_seconds())
        assert camera.lease_token == "" and "introuvable" in camera.last_error
        Camera.objects.filter(pk=camera.pk).update(retry_at=None)

    assert [round(d, -1) for d in delays] == [10, 30, 30]
    assert camera.failures == 3
    assert services.cameras_due(now=timezone.now()) != []
    Camera.objects.filter(pk=camera.pk).update(retry_at=timezone.now() + timedelta(seconds=30),
                                               lease_token="", lease_until=None)
    assert services.cameras_due() == []


def test_a_silent_camera_goes_offline_with_one_alert(tram_camera, settings):
    now = timezone.now()
    services.camera_frames_seen(camera_id=tram_camera.pk, fps=5.0, now=now - timedelta(seconds=20))
    assert services.cameras_check_heartbeats(now=now) == 0

    assert services.cameras_check_heartbeats(now=now + timedelta(seconds=11)) == 1
    assert services.cameras_check_heartbeats(now=now + timedelta(seconds=60)) == 0

    tram_camera.refresh_from_db()
    assert not tram_camera.online
    (alert,) = Alert.objects.all()
    assert alert.title == "Caméra hors ligne : Cam Tram"
    assert alert.category.code == "panne_equipement" and alert.source == Alert.Source.CAMERA
    assert Event.objects.filter(type="camera.offline").count() == 1
    # Frames again: back online, journaled.
    services.camera_frames_seen(camera_id=tram_camera.pk, fps=5.0)
    tram_camera.refresh_from_db()
    assert tram_camera.online
    assert Event.objects.filter(type="camera.online").count() == 2


def test_wrong_analytics_settings_are_refused_in_french(make_camera, intruder_clip):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="paramètre"):
        make_camera("cam-x", intruder_clip, analytics={"intrusion": {"params": {"vitesse": 3}}})
    with pytest.raises(ValidationError, match="Horaire"):
        make_camera("cam-y", intruder_clip,
                    analytics={"intrusion": {"schedule": {"start": "minuit", "end": "06:00"}}})
    with pytest.raises(ValidationError, match="line_crossing"):
        make_camera("cam-z", intruder_clip, analytics={"line_crossing": {}})


def test_abandoned_object_does_not_slow_the_shared_background(make_camera, intruder_clip):
    """The rule keeps its own slow background: the motion gate every other rule reads stays
    as quick to learn as on a camera without it."""
    camera = make_camera("cam-bag", intruder_clip,
                         analytics={"abandoned_object": {"params": {"min_seconds": 20}}})
    plain = make_camera("cam-plain", intruder_clip)
    gate = analysis.build_pipeline(camera).motion
    assert gate.learning_rate == analysis.build_pipeline(plain).motion.learning_rate == -1


def test_cameras_detecting_persons_trust_them_as_set(make_camera, intruder_clip, settings):
    camera = make_camera("cam-trust", intruder_clip, detector=Camera.Detector.PERSON)
    settings.VIDEO_DETECT_REVISIT = 3.0
    assert analysis.build_pipeline(camera).revisit == 3.0
    settings.VIDEO_DETECT_REVISIT = 0.0
    assert analysis.build_pipeline(camera).revisit == 0.0


def test_cameras_counting_crossings_search_everyone_at_every_detection(tram_camera, settings):
    tram_camera.detector = Camera.Detector.PERSON
    settings.VIDEO_DETECT_REVISIT = 3.0
    assert analysis.build_pipeline(tram_camera).revisit == 0.0

    tram_camera.analytics = {"intrusion": {"zones": ["voies"]}}  # the line kept, not counted
    assert analysis.build_pipeline(tram_camera).revisit == 3.0


# --- on the real broker ---------------------------------------------------------------------------

def test_a_window_queues_the_next_one_on_the_video_queue(tram_camera, needs_redis, settings):
    """The task runs a window, then sends the next to the ``video`` queue of the real broker,
    where any video worker may take it; the beat starts cameras nobody analyses."""
    from kombu import Queue

    from controlroom.celery import app
    from video import tasks

    settings.VIDEO_WINDOW_SECONDS = 1.0
    queue_name = f"video-test-{tram_camera.pk}-{timezone.now().timestamp():.0f}"

    def routes(table):  # the router is built once from the routes: rebuild it
        app.conf.task_routes = table
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)

    routes({"video.analyse_camera": {"queue": queue_name}})
    try:
        with app.connection_for_write() as connection:
            queue = connection.SimpleQueue(Queue(queue_name, routing_key=queue_name))
            assert services.lease_extend(camera_id=tram_camera.pk, token="loop", seconds=1)
            outcome = tasks.analyse_camera.apply(args=[tram_camera.pk, "loop"]).get()
            assert outcome["frames"] > 0 and outcome["stopped"] == ""

            message = queue.get(timeout=5)
            assert message.headers["task"] == "video.analyse_camera"
            assert message.payload[0] == [tram_camera.pk, "loop"]  # the same loop goes on
            assert message.headers["expires"] is not None
            message.ack()

            # A lost worker: its lease runs out, the beat hands the camera to a new loop.
            Camera.objects.filter(pk=tram_camera.pk).update(
                lease_until=timezone.now() - timedelta(seconds=1))
            assert tasks.supervise_cameras.apply().get() == {"offline": 0, "started": 1}
            restarted = queue.get(timeout=5)
            camera_id, token = restarted.payload[0]
            assert camera_id == tram_camera.pk and token not in ("", "loop")
            restarted.ack()
            queue.queue.delete()
            queue.close()
    finally:
        routes(settings.CELERY_TASK_ROUTES)


def test_the_analysis_task_is_routed_to_the_video_queue():
    from controlroom.celery import app
    from video.tasks import analyse_camera

    route = app.amqp.router.route({}, analyse_camera.name)
    assert route["queue"].name == "video"
    assert analyse_camera.acks_late
