"""Data migrations of the observatory's facts."""

from datetime import UTC, datetime
from importlib import import_module

import pytest
from django.apps import apps

from citizens.catalogue import services_ensure_defaults
from controlroom.geo import h3_cell
from observatory.models import DailyCount, Fact
from observatory.services import rollup_days

pytestmark = pytest.mark.django_db
migration = import_module("observatory.migrations.0002_citizen_reports_under_incident_categories")
T = datetime(2025, 12, 2, 20, 30, tzinfo=UTC)


def test_citizen_reports_move_under_their_incident_category(city, categories):
    services_ensure_defaults()
    cell = h3_cell(47.32, 5.04)
    facts = Fact.objects.bulk_create([
        Fact.of(time=T, h3=cell, category="citoyen-nuisance-sonore", source="citizen_report",
                origin="citizen_report:1"),
        Fact.of(time=T, h3=cell, category="nuisance_sonore", source="alert", origin="alert:1"),
        Fact.of(time=T, h3=cell, category="nuisance_sonore", source="citizen_report",
                origin="citizen_report:2"),
    ])
    rollup_days({fact.local_day for fact in facts})

    migration.forwards(apps, None)

    assert set(Fact.objects.values_list("category", flat=True)) == {"nuisance_sonore"}
    counts = dict(DailyCount.objects.values_list("source", "count"))
    assert counts == {"citizen_report": 2, "alert": 1}
    assert not DailyCount.objects.filter(category__startswith="citoyen").exists()
