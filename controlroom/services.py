"""Writes to the control room's own data: agencies, users, the city and its sectors.

Each function validates, saves and records its journal event in one transaction.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from controlroom import journal
from controlroom.models import Agency, City, Sector, User
from controlroom.roles import ROLE_PERMISSIONS

# Fields never copied into the journal.
# Never journaled: secrets, and camera stream addresses (they may carry credentials, and the
# journal reaches every console).
_PRIVATE_FIELDS = {"password", "last_login", "stream_url"}


def _snapshot(instance) -> dict:
    data = model_to_dict(instance)
    for name in _PRIVATE_FIELDS:
        data.pop(name, None)
    for key, value in list(data.items()):
        if isinstance(value, list):  # many-to-many: keep the ids
            data[key] = [getattr(item, "pk", item) for item in value]
    return data


@transaction.atomic
def configuration_save(*, instance, by, created: bool | None = None):
    """Validate and save a configuration object (agency, city, sector, user) and journal it."""
    if created is None:
        created = instance._state.adding
    instance.full_clean()
    instance.save()
    meta = instance._meta
    journal.record(
        type=f"{meta.model_name}.{'created' if created else 'changed'}",
        subject=instance,
        actor=by,
        payload={"name": str(instance), "data": _snapshot(instance)},
    )
    return instance


@transaction.atomic
def configuration_delete(*, instance, by) -> None:
    meta = instance._meta
    subject = (meta.app_label, meta.model_name, instance.pk)
    name = str(instance)
    instance.delete()
    journal.record(type=f"{meta.model_name}.deleted", subject=subject, actor=by, payload={"name": name})


def _grants_privileges(by) -> bool:
    """Only a superuser (or the system itself) makes superusers or grants single permissions."""
    return by is None or isinstance(by, str) or by.is_superuser


@dataclass(frozen=True)
class UserAccess:
    """What a user may do beyond their own data: roles (group names) and single permissions."""

    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()


def user_access(user: User) -> UserAccess:
    return UserAccess(
        roles=frozenset(user.groups.values_list("name", flat=True)),
        permissions=frozenset(
            f"{app}.{codename}" for app, codename in user.user_permissions.values_list(
                "content_type__app_label", "codename")
        ),
    )


@transaction.atomic
def user_save(*, user: User, by, created: bool | None = None) -> User:
    """Save a user account; only a superuser makes, changes or unmakes a superuser."""
    if not _grants_privileges(by):
        stored = User.objects.filter(pk=user.pk).values_list("is_superuser", flat=True).first()
        if user.is_superuser or stored:
            raise PermissionDenied(_("Seul un superutilisateur gère les superutilisateurs."))
    return configuration_save(instance=user, by=by, created=created)


@transaction.atomic
def user_access_changed(*, user: User, before: UserAccess, by) -> None:
    """Journal the roles granted and revoked since ``before``, and the single permissions,
    which only a superuser may change."""
    after = user_access(user)
    if after.permissions != before.permissions and not _grants_privileges(by):
        raise PermissionDenied(_("Seul un superutilisateur accorde des permissions individuelles."))
    for role in sorted(after.roles - before.roles):
        journal.record(type="user.role_granted", subject=user, actor=by, payload={"role": role})
    for role in sorted(before.roles - after.roles):
        journal.record(type="user.role_revoked", subject=user, actor=by, payload={"role": role})
    if after.permissions != before.permissions:
        journal.record(
            type="user.permissions_changed", subject=user, actor=by,
            payload={"granted": sorted(after.permissions - before.permissions),
                     "revoked": sorted(before.permissions - after.permissions)},
        )


@transaction.atomic
def agency_ensure(*, code: str, name: str, kind: str, operates_control_room=False, by=None) -> Agency:
    """Create the agency if it does not exist; an existing one is left as it is."""
    agency = Agency.objects.filter(code=code).first()
    if agency:
        return agency
    agency = Agency(code=code, name=name, kind=kind, operates_control_room=operates_control_room)
    return configuration_save(instance=agency, by=by, created=True)


@transaction.atomic
def city_ensure(*, name: str, boundary: dict, insee_code: str = "", by=None) -> City:
    city = City.objects.filter(name=name).first()
    if city:
        return city
    return configuration_save(
        instance=City(name=name, boundary=boundary, insee_code=insee_code), by=by, created=True
    )


@transaction.atomic
def sector_ensure(*, city: City, code: str, name: str, geometry: dict, by=None) -> Sector:
    sector = Sector.objects.filter(city=city, code=code).first()
    if sector:
        return sector
    return configuration_save(
        instance=Sector(city=city, code=code, name=name, geometry=geometry), by=by, created=True
    )


@transaction.atomic
def user_ensure(
    *,
    username: str,
    password: str,
    role: str,
    agency: Agency | None,
    first_name: str = "",
    last_name: str = "",
    by=None,
) -> User:
    """Create a user in one role if absent (the password is set only at creation)."""
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"Unknown role {role!r}.")
    user = User.objects.filter(username=username).first()
    if user:
        return user
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        agency=agency,
        is_staff=role == "administrator",
    )
    user.set_password(password)
    configuration_save(instance=user, by=by, created=True)
    user.groups.add(Group.objects.get(name=role))
    journal.record(
        type="user.role_granted", subject=user, actor=by, payload={"role": role}
    )
    return user
