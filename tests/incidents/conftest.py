"""Fixtures for alerts, incidents and units (the city and taxonomy come from tests/conftest.py)."""

import pytest

from incidents.models import Unit
from incidents.services import incidents as incident_services
from incidents.services import units as unit_services

# Well-known places of the demo city, (lat, lon).
DARCY = (47.3225, 5.0352)
REPUBLIQUE = (47.3268, 5.0455)
GARE = (47.3233, 5.0272)
TOISON = (47.3515, 5.0585)
UNIVERSITE = (47.3125, 5.0680)
PARIS = (48.8566, 2.3522)


@pytest.fixture
def make_unit(agencies):
    def make(call_sign, kind="patrol_car", place=DARCY, agency="pm"):
        return unit_services.unit_create(
            by="system:test", call_sign=call_sign, kind=kind, agency=agencies[agency],
            lat=place[0], lon=place[1],
        )

    return make


@pytest.fixture
def make_incident(city, categories, people):
    def make(category="rixe", place=REPUBLIQUE, by=None, **extra):
        return incident_services.incident_create(
            by=by or people["operator"], category=categories[category], title="Incident de test",
            lat=place[0], lon=place[1], **extra,
        )

    return make


def unit_status(unit) -> str:
    return Unit.objects.get(pk=unit.pk).status
