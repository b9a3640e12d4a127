"""Fixtures and builders for the guided procedure tests: categories, templates, incidents,
and the permissions each role needs for procedures (granted directly, whatever the roles say)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from controlroom.models import City, Event, Sector, User
from incidents.models import Category, Incident, ProcedureTemplate, StepTemplate
from incidents.taxonomy import TAXONOMY

ROLE_GRANTS = {
    "operator": ["incidents.view_procedurerun", "incidents.change_procedurerun"],
    "supervisor": ["incidents.view_procedurerun", "incidents.change_procedurerun",
                   "incidents.skip_mandatory_step"],
    "liaison_pn": [],
    "liaison_sdis": [],
    "administrator": ["incidents.view_proceduretemplate", "incidents.add_proceduretemplate",
                      "incidents.change_proceduretemplate", "incidents.delete_proceduretemplate",
                      "incidents.view_procedurerun"],
}


def grant(user: User, codes: list[str]) -> User:
    for code in codes:
        app_label, codename = code.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


@pytest.fixture(name="staff")
def staff_fixture(people):
    return {name: grant(user, ROLE_GRANTS[name]) for name, user in people.items()}


@pytest.fixture(name="taxonomy")
def taxonomy_fixture(db):
    return {
        code: Category.objects.create(
            code=code, label=label, domain=domain, default_priority=priority, unit_kinds=kinds
        )
        for code, label, domain, priority, kinds in TAXONOMY
    }


@pytest.fixture(name="two_sectors")
def two_sectors_fixture(db):
    square = {"type": "Polygon", "coordinates": [[[5.0, 47.3], [5.1, 47.3], [5.1, 47.4],
                                                  [5.0, 47.3]]]}
    city = City.objects.create(name="Dijon", boundary=square)
    return {
        code: Sector.objects.create(city=city, code=code, name=code.title(), geometry=square)
        for code in ("centre-ville", "gresilles")
    }


def make_template(code, category, steps, *, min_priority=None, sector=None, active=True):
    """``steps``: dicts with key, kind and optionally mandatory, deadline, params, yes, no."""
    template = ProcedureTemplate.objects.create(
        code=code, name=f"Procédure {code}", category=category, min_priority=min_priority,
        sector=sector, active=active,
    )
    StepTemplate.objects.bulk_create(
        StepTemplate(
            template=template,
            key=step["key"],
            order=position,
            kind=step.get("kind", "checklist"),
            instruction=step.get("instruction", f"Faire {step['key']}"),
            mandatory=step.get("mandatory", True),
            deadline_seconds=step.get("deadline"),
            params=step.get("params", {}),
            next_if_yes=step.get("yes", ""),
            next_if_no=step.get("no", ""),
        )
        for position, step in enumerate(steps, 1)
    )
    return template


def incident_for(category, *, priority=2, sector=None, agencies=()):
    now = timezone.now()
    incident = Incident.objects.create(
        category=category, title=f"{category.label} rue de la Liberté", lat=47.32, lon=5.04,
        created_at=now, status_changed_at=now, priority=priority, sector=sector,
    )
    incident.agencies.add(*agencies)
    return incident


def events(type_, **filters):
    return list(Event.objects.filter(type=type_, **filters).order_by("seq"))


def later(seconds: int):
    return timezone.now() + timedelta(seconds=seconds)
