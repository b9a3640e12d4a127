"""Sound sensors: their events and alerts, located impulses, settings journaled, the public
register, the API, and the analysis loop's state (offline, retry with backoff, queue)."""

import math
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from controlroom.models import Event as JournalEvent
from devices import services as device_services
from devices.acoustics.locate import SPEED_OF_SOUND, LocalPlane
from devices.acoustics.types import SoundEvent as Heard
from devices.models import Device, SoundEvent, SoundLocation, SoundSensor
from devices.services import sound
from incidents.models import Alert

LIBERATION = (47.3214, 5.0412)
# Six sensors 150–300 m around the square, as (m north, m east).
ARRAY = [(120, 20), (-150, 40), (10, -240), (30, 230), (190, -160), (-120, 280)]


@pytest.fixture
def make_sensor(city, categories):
    from controlroom.selectors import sector_at

    def make(code, place=LIBERATION, stream_url="/nonexistent/son.wav", **extra):
        device = Device(code=code, name=code.replace("-", " ").title(), kind="sound_sensor",
                        address=code, heartbeat_seconds=extra.pop("heartbeat_seconds", 60))
        device.set_point(*place)
        device.sector = sector_at(lat=place[0], lon=place[1])
        device.save()
        sensor = SoundSensor(device=device, stream_url=stream_url,
                             purpose=extra.pop("purpose", "Détecter les détonations."), **extra)
        sensor.full_clean()
        sensor.save()
        return sensor

    return make


@pytest.fixture
def array(make_sensor):
    """Six sensors around place de la Libération, and the plane they are measured in."""
    plane = LocalPlane(*LIBERATION)
    return plane, [make_sensor(f"son-{n}", place=plane.to_latlon(east, north))
                   for n, (north, east) in enumerate(ARRAY)]


def heard(kind, t, *, confidence=0.9, peak=96.0, duration=0.2):
    return Heard(kind=kind, start=t, end=t + duration, confidence=confidence, peak_db=peak,
                 laeq_db=peak - 12, bands={63: 60.0, 1000: 80.5, 4000: 78.25})


def shot_arrivals(plane, sensors, source_xy, t0, delays=None):
    delays = delays or {}
    for sensor in sensors:
        x, y = plane.to_xy(sensor.device.lat, sensor.device.lon)
        distance = math.hypot(x - source_xy[0], y - source_xy[1])
        yield sensor, t0 + distance / SPEED_OF_SOUND + delays.get(sensor.device.code, 0.0)


# --- events and their alerts -------------------------------------------------------------------

def test_an_event_raises_one_alert_per_sensor_and_type_while_it_lasts(make_sensor):
    sensor = make_sensor("son-berbisey")
    now = timezone.now().timestamp()
    first = sound.event_record(sensor=sensor, event=heard("scream", now - 30))
    again = sound.event_record(sensor=sensor, event=heard("scream", now - 20))
    other = sound.event_record(sensor=sensor, event=heard("glass", now - 10))
    assert first.created and again.created
    assert first.alert_id == again.alert_id != other.alert_id
    alert = Alert.objects.get(pk=first.alert_id)
    assert alert.repeat_count == 2 and alert.category.code == "cri_detresse"
    assert alert.source == Alert.Source.SENSOR and alert.severity == 1
    assert alert.evidence["sound"] == "scream" and alert.evidence["confidence"] == 0.9
    assert alert.evidence["bands"] == {"63": 60.0, "1000": 80.5, "4000": 78.2}
    assert Alert.objects.get(pk=other.alert_id).category.code == "bris_de_verre"
    # The same event reported twice (a window replayed) is recorded once.
    replay = sound.event_record(sensor=sensor, event=heard("scream", now - 30))
    assert not replay.created and replay.event_id == first.event_id
    assert SoundEvent.objects.count() == 3


def test_a_classifier_label_becomes_a_suspicious_sound_alert(make_sensor):
    sensor = make_sensor("son-gare")
    recorded = sound.event_record(sensor=sensor, event=heard("chien", timezone.now().timestamp()))
    alert = Alert.objects.get(pk=recorded.alert_id)
    assert alert.category.code == "bruit_suspect" and "chien" in alert.title


def test_a_shot_heard_by_six_sensors_is_located_despite_an_echo(array):
    plane, sensors = array
    t0 = timezone.now().timestamp() - 5
    echoed = sensors[3].device.code
    for sensor, t in shot_arrivals(plane, sensors, (20.0, -35.0), t0, {echoed: 0.045}):
        sound.event_record(sensor=sensor, event=heard("detonation", t))
    # One alert for the shot, counted once per sensor, moved to where it came from.
    alerts = Alert.objects.filter(category__code="coup_de_feu")
    assert alerts.count() == 1
    alert = alerts.get()
    assert alert.repeat_count == 6
    location = SoundLocation.objects.get()
    x, y = plane.to_xy(location.lat, location.lon)
    assert math.hypot(x - 20.0, y + 35.0) < 5.0
    assert 0 < location.radius_m < 15
    assert echoed in location.rejected and len(location.sensors) == 5
    assert location.alert_id == alert.pk and location.events.count() == 6
    ax, ay = plane.to_xy(alert.lat, alert.lon)
    assert math.hypot(ax - 20.0, ay + 35.0) < 5.0
    assert alert.evidence["located"]["radius_m"] == location.radius_m
    assert alert.evidence["radius_m"] == pytest.approx(location.radius_m, abs=0.1)
    located = JournalEvent.objects.filter(type="alert.located").order_by("-seq").first()
    assert located.payload["radius_m"] == alert.evidence["radius_m"]
    assert JournalEvent.objects.filter(type="sound.located").exists()


def test_two_sensors_only_give_no_location(array):
    plane, sensors = array
    t0 = timezone.now().timestamp() - 5
    for sensor, t in list(shot_arrivals(plane, sensors, (0.0, 0.0), t0))[:2]:
        sound.event_record(sensor=sensor, event=heard("detonation", t))
    location = SoundLocation.objects.get()
    assert not location.located and location.events.count() == 2
    assert "located" not in Alert.objects.get().evidence


def test_separate_shots_are_located_separately(array):
    plane, sensors = array
    t0 = timezone.now().timestamp() - 30
    for source, start in (((0.0, 0.0), t0), ((-60.0, 80.0), t0 + 10)):
        for sensor, t in shot_arrivals(plane, sensors, source, start):
            sound.event_record(sensor=sensor, event=heard("detonation", t))
    found = sorted((plane.to_xy(loc.lat, loc.lon) for loc in SoundLocation.objects.all()),
                   key=lambda xy: xy[0])
    assert len(found) == 2
    assert math.dist(found[0], (-60.0, 80.0)) < 5 and math.dist(found[1], (0.0, 0.0)) < 5


def test_an_arrival_too_late_for_the_distance_starts_another_impulse(array):
    plane, sensors = array
    t0 = timezone.now().timestamp() - 10
    arrivals = list(shot_arrivals(plane, sensors, (0.0, 0.0), t0))
    sound.event_record(sensor=arrivals[0][0], event=heard("detonation", arrivals[0][1]))
    # Two seconds later is farther than any two of these sensors are apart.
    sound.event_record(sensor=arrivals[1][0], event=heard("detonation", arrivals[0][1] + 2.0))
    assert SoundLocation.objects.count() == 2


# --- settings, hours, journal ------------------------------------------------------------------

def test_switching_a_sensor_off_and_changing_its_hours_is_journaled(make_sensor, people):
    sensor = make_sensor("son-darcy")
    admin = people["administrator"]
    sensor.enabled = False
    sound.sensor_save(sensor=sensor, by=admin)
    off = JournalEvent.objects.get(type="sound_sensor.disabled")
    assert off.actor_label == admin.username and off.payload["enabled"] is False
    assert "stream_url" not in str(off.payload)
    sensor.listen_start, sensor.listen_end = clock_time(20, 0), clock_time(6, 0)
    sensor.enabled = True
    sound.sensor_save(sensor=sensor, by=admin)
    assert JournalEvent.objects.filter(type="sound_sensor.enabled").count() == 1
    hours = JournalEvent.objects.get(type="sound_sensor.hours_changed")
    assert hours.payload["hours"] == "20:00–06:00" and hours.payload["before"] == "en permanence"
    changed = JournalEvent.objects.filter(type="soundsensor.changed").last()
    assert "stream_url" not in changed.payload["data"]


def test_only_who_may_change_sensors_does(make_sensor, people):
    sensor = make_sensor("son-wilson")
    sensor.enabled = False
    with pytest.raises(PermissionDenied):
        sound.sensor_save(sensor=sensor, by=people["operator"])
    assert SoundSensor.objects.get(pk=sensor.pk).enabled


@pytest.mark.parametrize("field, value, message", [
    ("detections", ["detonation", "aboiement"], "Détections possibles"),
    ("stream_url", "", "adresse du flux"),
    ("listen_days", [0, 9], "0 (lundi) à 6"),
    ("music_threshold_db", 12.0, "Entre 40 et 120"),
])
def test_bad_settings_are_refused_in_french(make_sensor, field, value, message):
    sensor = make_sensor("son-bad")
    setattr(sensor, field, value)
    with pytest.raises(ValidationError) as refused:
        sensor.full_clean()
    assert message in str(refused.value)


def test_listening_hours_and_the_night_window(make_sensor):
    sensor = make_sensor("son-hours", listen_start=clock_time(22, 0), listen_end=clock_time(6, 0),
                         listen_days=[4])  # Friday night
    paris = timezone.get_current_timezone()
    friday_night = datetime(2026, 11, 20, 23, 30, tzinfo=paris)
    assert sound.listening(sensor, friday_night)
    assert sound.listening(sensor, friday_night + timedelta(hours=5))  # Saturday 04:30
    assert not sound.listening(sensor, friday_night + timedelta(hours=7))
    assert not sound.listening(sensor, friday_night - timedelta(days=1))
    night = sound.night(sensor)  # 22:00–07:00 by default
    assert night(datetime(2026, 11, 20, 23, 0, tzinfo=paris).timestamp())
    assert not night(datetime(2026, 11, 20, 15, 0, tzinfo=paris).timestamp())


def test_levels_feed_the_telemetry_rules(make_sensor, categories):
    from devices.models import TelemetryReading, TelemetryRule

    sensor = make_sensor("son-levels")
    TelemetryRule.objects.create(name="Trop fort", metric="laeq_db", comparison=">",
                                 threshold=70, aggregation="instant",
                                 category=categories["nuisance_sonore"])
    fired = sound.levels_record(sensor=sensor, laeq=74.26, lafmax=88.0, at=timezone.now())
    assert fired == ["raised"]
    assert set(TelemetryReading.objects.values_list("metric", "value")) == {
        ("laeq_db", 74.3), ("lafmax_db", 88.0)}


# --- the analysis loop's state -----------------------------------------------------------------

def test_an_unreadable_stream_is_retried_later_and_later(make_sensor, settings):
    from devices.services.sound_analysis import analyse_window

    settings.SOUND_RETRY_BACKOFF_SECONDS = (10.0, 30.0)
    sensor = make_sensor("son-broken")
    [(sensor_id, token)] = sound.sensors_due()
    result = analyse_window(sensor_id, token=token, realtime=False)
    assert result.stopped == "source"
    sensor.refresh_from_db()
    assert sensor.failures == 1 and "introuvable" in sensor.last_error
    assert sensor.lease_token == "" and sensor.retry_at > timezone.now() + timedelta(seconds=8)
    failed = JournalEvent.objects.get(type="sound_sensor.connection_failed")
    assert failed.payload["retry_in"] == 10.0 and "nonexistent" not in str(failed.payload)
    assert sound.sensors_due() == []  # not before its retry time
    later = timezone.now() + timedelta(seconds=11)
    [(_, token)] = sound.sensors_due(now=later)
    analyse_window(sensor_id, token=token, realtime=False)
    sensor.refresh_from_db()
    assert sensor.failures == 2 and sensor.retry_at > timezone.now() + timedelta(seconds=28)


def test_a_silent_sensor_goes_offline_with_one_alert(make_sensor):
    sensor = make_sensor("son-silent", heartbeat_seconds=60)
    device_services.device_report(device=sensor.device,
                                  at=timezone.now() - timedelta(seconds=120))
    assert device_services.devices_check_heartbeats() == 1
    assert device_services.devices_check_heartbeats() == 0
    alert = Alert.objects.get(dedup_key="device-offline:son-silent")
    assert alert.category.code == "panne_equipement"
    sound.sensor_heard(sensor=sensor)
    assert Device.objects.get(pk=sensor.device_id).online
    assert JournalEvent.objects.filter(type="device.back_online").exists()


def test_sensors_outside_their_hours_are_not_started(make_sensor):
    now = timezone.now()
    local = timezone.localtime(now)
    start = (local + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=3)).time().replace(second=0, microsecond=0)
    make_sensor("son-later", listen_start=start, listen_end=end)
    make_sensor("son-always")
    started = dict(sound.sensors_due(now=now))
    assert [SoundSensor.objects.get(pk=pk).device.code for pk in started] == ["son-always"]


def test_the_simulator_never_speaks_for_a_sound_sensor(make_sensor):
    from devices.services import telemetry

    sensor = make_sensor("son-quiet")
    Device.objects.filter(pk=sensor.device_id).update(last_seen_at=None)
    telemetry.simulator_tick()
    assert Device.objects.get(pk=sensor.device_id).last_seen_at is None


def test_the_analysis_task_is_routed_to_the_sound_queue():
    from controlroom.celery import app
    from devices.tasks import analyse_sound_sensor

    route = app.amqp.router.route({}, analyse_sound_sensor.name)
    assert route["queue"].name == "sound"
    assert analyse_sound_sensor.acks_late


# --- public register and API -------------------------------------------------------------------

def test_the_public_register_lists_sensors_purpose_hours_and_what_is_kept(client, make_sensor):
    make_sensor("son-public", stream_url="rtsp://user:secret@10.0.0.5/audio",
                purpose="Détecter les <b>cris</b> de détresse.",
                listen_start=clock_time(21, 0), listen_end=clock_time(5, 0))
    response = client.get("/capteurs-sonores/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Son Public" in html and "21:00–05:00" in html
    assert "&lt;b&gt;cris&lt;/b&gt;" in html  # escaped
    assert "aucun son n'est conservé" in html
    assert "secret" not in html and "rtsp" not in html


def test_the_api_lists_sensors_and_events_without_stream_or_audio(api, people, make_sensor):
    sensor = make_sensor("son-api", stream_url="rtsp://user:secret@10.0.0.5/audio")
    sound.event_record(sensor=sensor, event=heard("glass", timezone.now().timestamp()))
    client = api(people["operator"])
    sensors = client.get("/api/sound-sensors/").json()
    rows = sensors["results"] if isinstance(sensors, dict) else sensors
    assert rows[0]["code"] == "son-api" and "stream_url" not in rows[0]
    assert "secret" not in str(rows)
    events = client.get("/api/sound-events/?kind=glass").json()
    rows = events["results"] if isinstance(events, dict) else events
    assert rows[0]["kind"] == "glass" and rows[0]["sensor_code"] == "son-api"
    liaison = api(people["liaison_pn"]).get("/api/sound-events/").json()
    assert (liaison["results"] if isinstance(liaison, dict) else liaison) == []


def test_nearest_cameras_are_suggested_and_bad_points_refused(api, people, city):
    from video.models import Camera

    for code, north in (("cam-near", 50), ("cam-far", 3000), ("cam-mid", 200)):
        camera = Camera(code=code, name=code, stream_url="/x.avi")
        camera.set_point(LIBERATION[0] + north / 111_000, LIBERATION[1])
        camera.save()
    client = api(people["operator"])
    found = client.get(f"/api/cameras/nearest/?lat={LIBERATION[0]}&lon={LIBERATION[1]}").json()
    assert [c["code"] for c in found] == ["cam-near", "cam-mid"]
    assert found[0]["distance_m"] == pytest.approx(50, abs=2) and "stream_url" not in found[0]
    bad = client.get("/api/cameras/nearest/?lat=abc&lon=5")
    assert bad.status_code == 400 and "lat" in bad.json()["detail"]


def test_the_alert_layer_carries_the_uncertainty_radius(array, people):
    from incidents.layers import alerts_layer

    plane, sensors = array
    t0 = datetime.now(tz=UTC).timestamp() - 5
    for sensor, t in shot_arrivals(plane, sensors, (0.0, 0.0), t0):
        sound.event_record(sensor=sensor, event=heard("detonation", t))
    [feature] = alerts_layer(user=people["operator"])["features"]
    assert 0 < feature["properties"]["radius_m"] < 15
