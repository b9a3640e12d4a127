import pytest
from django.contrib.auth.models import Group

from controlroom.models import Agency, Event


@pytest.mark.django_db
def test_an_agency_added_in_the_admin_is_journaled(api, people):
    client = api(people["administrator"])
    response = client.post(
        "/admin/controlroom/agency/add/",
        {"code": "tram", "name": "Divia Mobilités", "kind": "transport"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    agency = Agency.objects.get(code="tram")
    event = Event.objects.filter(type="agency.created").last()
    assert event.subject_id == str(agency.pk)
    assert event.actor_id == people["administrator"].pk
    assert event.payload["data"]["name"] == "Divia Mobilités"


@pytest.mark.django_db
def test_an_agency_deleted_in_the_admin_is_journaled(api, people, agencies):
    client = api(people["administrator"])
    spare = Agency.objects.create(code="spare", name="Spare", kind="other")
    response = client.post(f"/admin/controlroom/agency/{spare.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Agency.objects.filter(code="spare").exists()
    assert Event.objects.filter(type="agency.deleted", subject_id=str(spare.pk)).exists()


@pytest.mark.django_db
def test_role_changes_in_the_admin_are_journaled(api, people):
    client = api(people["administrator"])
    operator = people["operator"]
    form = {
        "username": operator.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "groups": [Group.objects.get(name="supervisor").pk],
        "agency": operator.agency_id,
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
    }
    response = client.post(f"/admin/controlroom/user/{operator.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    roles = {
        (e.type, e.payload["role"])
        for e in Event.objects.filter(subject_id=str(operator.pk), type__startswith="user.role_")
    }
    assert ("user.role_granted", "supervisor") in roles
    assert ("user.role_revoked", "operator") in roles
    assert Event.objects.filter(type="user.changed", subject_id=str(operator.pk)).exists()


@pytest.mark.django_db
def test_operators_cannot_open_the_admin(api, people):
    response = api(people["operator"]).get("/admin/")
    assert response.status_code == 302
    assert "/login/" in response["Location"] or "/connexion/" in response["Location"]


@pytest.mark.django_db
def test_every_admin_page_renders(client, django_user_model):
    from django.contrib import admin as django_admin

    root = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(root)
    for model, model_admin in django_admin.site._registry.items():
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        assert client.get(url).status_code == 200, url
        if model_admin.has_add_permission(type("R", (), {"user": root})()):
            assert client.get(url + "add/").status_code == 200, url + "add/"
