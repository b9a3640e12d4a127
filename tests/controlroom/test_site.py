import pytest

from controlroom import journal
from controlroom.models import Event, Sector, User
from controlroom.roles import ROLE_PERMISSIONS, roles_sync
from tests.conftest import load_small_demo


@pytest.mark.django_db
def test_healthz_reports_every_part_to_staff_and_only_the_status_to_others(client, people):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

    client.force_login(people["administrator"])
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "channel_layer", "broker", "rate_limiter"}
    assert body["checks"]["rate_limiter"]["fail_open"] is False


@pytest.mark.django_db
def test_healthz_answers_503_when_a_part_is_down(client, people, monkeypatch):
    from controlroom import health

    def broken():
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(health, "_broker", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded"}
    client.force_login(people["administrator"])
    assert client.get("/healthz").json()["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_the_login_page_speaks_french(client):
    response = client.get("/connexion/")
    assert response.status_code == 200
    assert "Se connecter" in response.content.decode()


@pytest.mark.django_db
def test_english_is_available_on_request(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/connexion/"})
    assert response.status_code == 302
    page = client.get("/connexion/").content.decode()
    assert '<html lang="en">' in page
    assert "Username" in page and "Log in" in page
    assert "Se connecter" not in page


@pytest.mark.django_db
def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/connexion/" in response["Location"]


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account(client, people):
    for _ in range(5):
        client.post("/connexion/", {"username": "op", "password": "wrong"})
    response = client.post("/connexion/", {"username": "op", "password": "correct-horse-battery-staple"})
    assert response.status_code == 429
    assert "bloqué" in response.content.decode()


@pytest.mark.django_db
def test_a_good_login_reaches_the_home_page(client, people):
    response = client.post(
        "/connexion/", {"username": "op", "password": "correct-horse-battery-staple"}, follow=True
    )
    assert response.status_code == 200
    assert "Journal en direct" in response.content.decode()


def test_sessions_expire_after_a_shift_of_inactivity(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600 and settings.SESSION_SAVE_EVERY_REQUEST


@pytest.mark.django_db
def test_every_declared_role_permission_exists():
    roles_sync(strict=True)


@pytest.mark.django_db
def test_the_demo_loader_is_idempotent():
    load_small_demo()
    counts = (User.objects.count(), Sector.objects.count(), Event.objects.count())
    load_small_demo()
    assert (User.objects.count(), Sector.objects.count(), Event.objects.count()) == counts
    assert Sector.objects.count() == 12
    assert User.objects.get(username="liaison.pn").groups.get().name == "agency_liaison"
    assert journal.verify_chain()[1] is None
    assert set(ROLE_PERMISSIONS) == {"operator", "supervisor", "agency_liaison", "administrator",
                                     "analyst"}


@pytest.mark.django_db
def test_demo_sectors_tile_the_city():
    from controlroom.selectors import point_in_city, sector_at

    load_small_demo()
    assert sector_at(lat=47.3220, lon=5.0415).code == "centre-ville"
    assert point_in_city(lat=47.3220, lon=5.0415)
    assert sector_at(lat=48.0, lon=5.0) is None and not point_in_city(lat=48.0, lon=5.0)
