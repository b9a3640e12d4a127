"""Who may make a superuser or grant single permissions: superusers only."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied

from controlroom import services
from controlroom.models import Event, User

pytestmark = pytest.mark.django_db


def user_form(user, **extra):
    form = {
        "username": user.username, "first_name": "", "last_name": "", "email": "",
        "is_active": "on", "is_staff": "on" if user.is_staff else "",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "agency": user.agency_id or "",
        "last_login_0": "", "last_login_1": "",
        "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00",
    }
    form.update(extra)
    return {k: v for k, v in form.items() if v != ""}


def any_permission():
    return Permission.objects.get(content_type__app_label="controlroom", codename="view_all_events")


def test_it_hides_superuser_and_permissions_from_an_administrator(api, people):
    administrator = people["administrator"]
    page = api(administrator).get(f"/admin/controlroom/user/{administrator.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="is_superuser"' not in html
    assert 'name="user_permissions"' not in html
    assert 'name="groups"' in html


def test_an_administrator_cannot_make_itself_superuser(api, people):
    administrator = people["administrator"]
    client = api(administrator)
    response = client.post(
        f"/admin/controlroom/user/{administrator.pk}/change/",
        user_form(administrator, is_superuser="on", user_permissions=[any_permission().pk]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert not administrator.user_permissions.exists()


def test_an_administrator_still_changes_roles_journaled_as_role_events(api, people):
    administrator, operator = people["administrator"], people["operator"]
    response = api(administrator).post(
        f"/admin/controlroom/user/{operator.pk}/change/",
        user_form(operator, groups=[Group.objects.get(name="supervisor").pk]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    roles = {(e.type, e.payload["role"]) for e in Event.objects.filter(
        subject_id=str(operator.pk), type__startswith="user.role_")}
    assert {("user.role_granted", "supervisor"), ("user.role_revoked", "operator")} <= roles


def test_an_administrator_cannot_edit_a_superuser(api, people):
    root = User.objects.create_superuser("root", password="x")
    client = api(people["administrator"])
    response = client.post(f"/admin/controlroom/user/{root.pk}/change/",
                           user_form(root, is_active=""))
    assert response.status_code == 403
    response = client.post(f"/admin/controlroom/user/{root.pk}/password/",
                           {"password1": "n3w-Passw0rd!x", "password2": "n3w-Passw0rd!x"})
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password("x") and root.is_active


def test_an_administrator_cannot_edit_the_roles_permissions(api, people):
    group = Group.objects.get(name="administrator")
    response = api(people["administrator"]).post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "administrator", "permissions": [p.pk for p in Permission.objects.all()]},
    )
    assert response.status_code == 403
    assert not group.permissions.filter(codename="delete_event").exists()


def test_the_services_refuse_privileges_granted_by_a_non_superuser(people):
    administrator, operator = people["administrator"], people["operator"]
    operator.is_superuser = True
    with pytest.raises(PermissionDenied):
        services.user_save(user=operator, by=administrator)
    operator.refresh_from_db()
    before = services.user_access(operator)
    operator.user_permissions.add(any_permission())
    with pytest.raises(PermissionDenied):
        services.user_access_changed(user=operator, before=before, by=administrator)


def test_a_superuser_grants_them_and_it_is_journaled(people):
    root = User.objects.create_superuser("root", password="x")
    operator = people["operator"]
    before = services.user_access(operator)
    operator.user_permissions.add(any_permission())
    services.user_access_changed(user=operator, before=before, by=root)
    event = Event.objects.filter(type="user.permissions_changed").last()
    assert event.payload == {"granted": ["controlroom.view_all_events"], "revoked": []}
    operator.is_superuser = True
    services.user_save(user=operator, by=root)
    assert User.objects.get(pk=operator.pk).is_superuser
