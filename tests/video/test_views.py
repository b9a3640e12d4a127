"""Live view, evidence, unblurred view and wall screens, as staff reach them over HTTP."""

import numpy as np
import pytest
from django.utils import timezone

from controlroom.models import Event
from video import live, services
from video.models import Camera, Screen, ScreenRouting

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


@pytest.fixture
def snapshot(tram_camera):
    frame = np.full((360, 640, 3), 100, np.uint8)
    return services.snapshot_store(camera=tram_camera, frame=frame, persons=[],
                                   taken_at=timezone.now())


@pytest.fixture
def screen(db):
    return Screen.objects.create(code="mur-1", name="Mur 1")


# --- live view ------------------------------------------------------------------------------------

def test_the_live_frame_is_journaled_once_and_never_reveals_the_stream(api, people, tram_camera):
    client = api(people["operator"])
    frame_url = f"/video/cameras/{tram_camera.pk}/image.jpg"

    assert client.get(frame_url).status_code == 204  # nothing published yet
    assert live.watched(tram_camera.pk)  # ... but the worker now publishes frames
    live.publish(tram_camera.pk, JPEG)
    response = client.get(frame_url)

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content == JPEG and "no-store" in response["Cache-Control"]
    assert Event.objects.filter(type="camera.live_viewed").count() == 1
    page = client.get(f"/video/cameras/{tram_camera.pk}/direct/").content.decode()
    assert "Cam Tram" in page and tram_camera.stream_url not in page
    api_answer = client.post(f"/api/cameras/{tram_camera.pk}/live/").json()
    assert api_answer["frame_url"] == frame_url
    assert tram_camera.stream_url not in client.get("/api/cameras/").content.decode()


def test_people_without_the_live_permission_see_no_frame(api, people, tram_camera):
    live.publish(tram_camera.pk, JPEG)
    client = api(people["liaison_pn"])

    assert client.get(f"/video/cameras/{tram_camera.pk}/image.jpg").status_code == 403
    assert client.get(f"/video/cameras/{tram_camera.pk}/direct/").status_code == 403
    assert client.post(f"/api/cameras/{tram_camera.pk}/live/").status_code == 404
    assert not Event.objects.filter(type="camera.live_viewed").exists()


def test_the_worker_publishes_masked_frames_only_while_someone_watches(tram_camera):
    from video import analysis

    services.lease_extend(camera_id=tram_camera.pk, token="t", seconds=60)
    analysis.analyse_window(tram_camera.pk, token="t", seconds=60, realtime=False, limit=5)
    assert live.latest(tram_camera.pk) is None

    live.watch(tram_camera.pk)
    analysis.analyse_window(tram_camera.pk, token="t", seconds=60, realtime=False, limit=5)
    import cv2

    image = cv2.imdecode(np.frombuffer(live.latest(tram_camera.pk), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (360, 640, 3)
    assert image[:100, :150].max() < 20  # the privacy mask, applied before it left the worker
    assert image[200:, 300:].std() > 5


# --- evidence -------------------------------------------------------------------------------------

def test_staff_see_the_blurred_snapshot_the_public_does_not(client, api, people, snapshot):
    url = f"/video/preuves/{snapshot.pk}.jpg"
    assert client.get(url).status_code == 302  # to the login page
    response = api(people["operator"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert api(people["liaison_pn"]).get(url).status_code == 404


def test_the_unblurred_image_needs_the_permission_and_a_reason_each_view_journaled(
        api, people, snapshot):
    url = f"/api/snapshots/{snapshot.pk}/unblurred/"

    denied = api(people["operator"]).post(url, {"reason": "Identification du véhicule"},
                                          content_type="application/json")
    assert denied.status_code == 403 and "floutée" in denied.json()["detail"]
    supervisor = api(people["supervisor"])
    short = supervisor.post(url, {"reason": "vu"}, content_type="application/json")
    assert short.status_code == 400 and "motif" in str(short.json())
    assert not Event.objects.filter(type="video.snapshot_unblurred").exists()

    response = supervisor.post(url, {"reason": "Réquisition OPJ n° 2026-118"},
                               content_type="application/json")

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with snapshot.unblurred.open("rb") as stored:
        assert response.content == stored.read()
    (event,) = Event.objects.filter(type="video.snapshot_unblurred")
    assert event.actor_label == "sup" and event.payload["reason"] == "Réquisition OPJ n° 2026-118"


def test_video_events_and_statistics_are_listed_for_staff(api, people, tram_camera):
    from video import analysis

    services.lease_extend(camera_id=tram_camera.pk, token="t", seconds=60)
    analysis.analyse_window(tram_camera.pk, token="t", seconds=60, realtime=False, limit=100)
    client = api(people["operator"])

    (event,) = client.get("/api/video-events/", {"camera": tram_camera.pk}).json()["results"]
    assert event["rule"] == "intrusion" and event["snapshot_url"].endswith(".jpg")
    rows = client.get(f"/api/cameras/{tram_camera.pk}/statistics/").json()
    assert {row["zone"] for row in rows} >= {"voies", "passage"}
    assert "image" not in str(rows)
    bad = client.get(f"/api/cameras/{tram_camera.pk}/statistics/", {"since": "hier"})
    assert bad.status_code == 400 and "ISO 8601" in str(bad.json())


# --- screens --------------------------------------------------------------------------------------

def route(client, screen, camera, reason=""):
    return client.post(f"/api/screens/{screen.pk}/route/",
                       {"camera": camera.pk if camera else None, "reason": reason},
                       content_type="application/json")


def test_an_operator_routes_a_camera_and_the_screen_shows_it(api, people, tram_camera, screen):
    client = api(people["operator"])
    assert client.get("/video/ecrans/mur-1/image.jpg").status_code == 204

    response = route(client, screen, tram_camera)

    assert response.status_code == 200 and response.json()["camera_name"] == "Cam Tram"
    live.publish(tram_camera.pk, JPEG)
    frame = client.get("/video/ecrans/mur-1/image.jpg")
    assert frame.content == JPEG and frame["X-Camera-Name"] == "Cam%20Tram"
    assert Event.objects.filter(type="screen.routed", payload__camera="cam-tram").exists()
    assert client.get("/video/ecrans/mur-1/").status_code == 200
    assert Event.objects.filter(type="screen.viewed").count() == 1
    assert route(client, screen, None).json()["camera"] is None


def test_a_sensitive_camera_waits_for_a_supervisor(api, people, make_camera, intruder_clip,
                                                   screen, tram_camera):
    courtyard = make_camera("cam-cour", intruder_clip, sensitive=True)
    operator = api(people["operator"])
    route(operator, screen, tram_camera)

    no_reason = route(operator, screen, courtyard)
    assert no_reason.status_code == 400 and "motif" in str(no_reason.json())
    pending = route(operator, screen, courtyard, reason="Suivi du rassemblement")
    assert pending.status_code == 202 and pending.json()["status"] == "pending"
    screen.refresh_from_db()
    assert screen.camera == tram_camera  # unchanged until approved

    routing = pending.json()["id"]
    assert operator.post(f"/api/screen-routings/{routing}/approve/").status_code == 403
    supervisor = api(people["supervisor"])
    refused = supervisor.post(f"/api/screen-routings/{routing}/reject/", {},
                              content_type="application/json")
    assert refused.status_code == 400
    approved = supervisor.post(f"/api/screen-routings/{routing}/approve/")
    assert approved.status_code == 200 and approved.json()["decided_by"] == "sup"
    screen.refresh_from_db()
    assert screen.camera == courtyard
    again = supervisor.post(f"/api/screen-routings/{routing}/approve/")
    assert again.status_code == 409
    assert Event.objects.filter(type="screen.routing_requested").count() == 1
    assert Event.objects.filter(type="screen.routed", payload__camera="cam-cour").exists()
    # A supervisor routes a sensitive camera directly.
    direct = route(supervisor, screen, courtyard)
    assert direct.status_code == 200
    assert ScreenRouting.objects.count() == 1


def test_a_refused_routing_tells_its_requester_why(api, people, make_camera, intruder_clip,
                                                   screen):
    courtyard = make_camera("cam-cour", intruder_clip, sensitive=True)
    pending = route(api(people["operator"]), screen, courtyard, reason="Suivi du rassemblement")
    assert pending.status_code == 202
    routing = pending.json()["id"]
    refused = api(people["supervisor"]).post(f"/api/screen-routings/{routing}/reject/",
                          {"note": "Pas de motif suffisant"}, content_type="application/json")
    assert refused.status_code == 200
    event = Event.objects.get(type="screen.routing_rejected")
    # The requester's console finds itself in the event, with the camera asked for and why.
    assert event.payload["requested_by"] == people["operator"].get_username()
    assert event.payload["requested_name"] == courtyard.name
    assert event.payload["note"] == "Pas de motif suffisant"


def test_nobody_approves_their_own_request(api, people, make_camera, intruder_clip, screen):
    courtyard = make_camera("cam-cour", intruder_clip, sensitive=True)
    supervisor = people["supervisor"]
    routing = ScreenRouting.objects.create(screen=screen, camera=courtyard,
                                           requested_by=supervisor, reason="test")
    response = api(supervisor).post(f"/api/screen-routings/{routing.pk}/approve/")
    assert response.status_code == 403


def test_a_camera_out_of_service_cannot_be_routed(api, people, tram_camera, screen):
    Camera.objects.filter(pk=tram_camera.pk).update(enabled=False)
    response = route(api(people["operator"]), screen, tram_camera)
    assert response.status_code == 409
