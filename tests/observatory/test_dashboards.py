"""The dashboards' figures against hand-computed ones on small data, their CSV, who sees them."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from controlroom import services as config
from controlroom.geo import h3_cell
from controlroom.models import Sector
from incidents.services import incidents as incident_services
from incidents.services import units as unit_services
from observatory import selectors, services
from observatory.models import Fact
from tests.conftest import PASSWORD
from tests.incidents.conftest import REPUBLIQUE

pytestmark = pytest.mark.django_db

# Tuesday 2 December 2025, 21:30 in Paris (20:30 UTC).
T = datetime(2025, 12, 2, 20, 30, tzinfo=UTC)


@pytest.fixture
def facts(city):
    a, b = Sector.objects.order_by("pk")[:2]
    rows = [
        (T, "rixe", a), (T + timedelta(minutes=10), "rixe", a), (T, "vol", b),
        (T + timedelta(days=1), "nuisance_sonore", a),  # Wednesday 21:30
        (T - timedelta(weeks=52), "rixe", a),  # the same week a year before
    ]
    facts = Fact.objects.bulk_create([
        Fact.of(time=t, h3=h3_cell(47.32 + n / 500, 5.04), sector=s, category=c,
                source="alert", origin=f"test:{n}") for n, (t, c, s) in enumerate(rows)])
    services.rollup_days({fact.local_day for fact in facts})
    return a, b


def period(**extra):
    return selectors.Filters(start=T - timedelta(days=7), end=T + timedelta(days=7), **extra)


def test_counts_by_category_sector_and_hour_of_week(facts):
    a, b = facts
    assert selectors.by_category(period()) == [
        {"category": "rixe", "count": 2}, {"category": "nuisance_sonore", "count": 1},
        {"category": "vol", "count": 1}]
    assert selectors.by_sector(period()) == [{"sector": a.name, "count": 3},
                                             {"sector": b.name, "count": 1}]
    grid = selectors.hour_of_week(period())
    assert grid[1][21] == 3 and grid[2][21] == 1  # Tuesday and Wednesday, 21 h in Paris
    assert sum(map(sum, grid)) == 4
    assert selectors.by_category(period(categories=["vol"])) == [{"category": "vol", "count": 1}]
    assert selectors.by_category(period(sectors=[b.pk])) == [{"category": "vol", "count": 1}]


def test_the_trend_compares_with_the_same_week_last_year(facts):
    rows = selectors.trend(period())
    week = next(r for r in rows if r["count"])
    assert week == {"week": "2025-12-01", "count": 4, "last_year": 1}


def test_whole_days_read_the_daily_counts_and_agree_with_the_facts(facts):
    from observatory.models import DailyCount

    paris = selectors.PARIS
    days = selectors.Filters(start=datetime(2025, 11, 24, tzinfo=paris),
                             end=datetime(2025, 12, 8, tzinfo=paris))
    assert days.daily() is not None and period().daily() is None
    assert DailyCount.objects.filter(day="2025-12-02").get(category="rixe").count == 2
    assert selectors.by_category(days) == selectors.by_category(period())
    assert selectors.by_sector(days) == selectors.by_sector(period())
    assert selectors.trend(days) == [r for r in selectors.trend(period())
                                     if r["week"] in {"2025-11-24", "2025-12-01"}]


def test_the_heat_map_counts_per_cell(facts):
    cells = {f["properties"]["h3"]: f["properties"]["count"]
             for f in selectors.heatmap(period())["features"]}
    assert sum(cells.values()) == 4


def test_response_times_by_sector_and_shift(city, categories, people, make_unit):
    unit = make_unit("PM 1")
    other = make_unit("PM 2")
    start = datetime(2025, 12, 2, 21, 0, tzinfo=UTC)  # 22 h in Paris: the night shift
    for n, (ack, dispatch, scene, who) in enumerate(((60, 120, 300, unit),
                                                     (30, 60, 600, other))):
        base = start + timedelta(hours=n)
        with time_machine.travel(base, tick=False):
            incident = incident_services.incident_create(
                by=people["operator"], category=categories["rixe"], title="Rixe",
                lat=REPUBLIQUE[0], lon=REPUBLIQUE[1])
        with time_machine.travel(base + timedelta(seconds=ack), tick=False):
            incident_services.incident_transition(incident=incident, to="acknowledged",
                                                  by=people["operator"])
        with time_machine.travel(base + timedelta(seconds=ack + dispatch), tick=False):
            unit_services.unit_assign(incident=incident, unit=who, by=people["operator"])
        with time_machine.travel(base + timedelta(seconds=ack + dispatch + scene), tick=False):
            unit_services.unit_status_set(unit=who, status="on_scene", by=people["operator"])
    rows = selectors.response_times(selectors.Filters(start=start - timedelta(hours=1),
                                                      end=start + timedelta(hours=3)))
    (row,) = rows
    assert row["shift"] == "nuit" and row["incidents"] == 2
    assert (row["ack_p50"], row["ack_p90"]) == (45.0, 57.0)
    assert (row["dispatch_p50"], row["on_scene_p50"]) == (90.0, 450.0)
    assert row["on_scene_p90"] == 570.0


def test_csv_downloads_and_who_sees_the_observatory(client, facts, agencies):
    analyst = config.user_ensure(username="ana", password=PASSWORD, role="analyst",
                                 agency=agencies["pm"])
    client.force_login(analyst)
    query = {"start": "2025-11-25", "end": "2025-12-09"}
    response = client.get("/observatoire/export/categories.csv", query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")),
                               delimiter=";"))
    assert rows[0] == {"Catégorie": "Rixe", "Code": "rixe", "Nombre de faits": "2"}
    assert client.get("/observatoire/", query).status_code == 200
    data = client.get("/observatoire/chiffres.json", query).json()
    assert data["categories"][0] == {"category": "rixe", "label": "Rixe", "count": 2}
    bad = client.get("/observatoire/chiffres.json", {"start": "2025-12-09", "end": "2025-11-25"})
    assert bad.status_code == 400 and "précède" in str(bad.json()["fields"])
    assert client.get("/observatoire/export/nothing.csv").status_code == 404
    grid = list(csv.DictReader(io.StringIO(client.get(
        "/observatoire/export/hour_of_week.csv", query).content.decode("utf-8-sig")),
        delimiter=";"))
    assert [row["Jour"] for row in grid][:2] == ["lundi", "mardi"] and grid[1]["21 h"] == "3"
    operator = config.user_ensure(username="op2", password=PASSWORD, role="operator",
                                  agency=agencies["pm"])
    client.force_login(operator)
    assert client.get("/observatoire/").status_code == 403
    assert client.get("/observatoire/chiffres.json").status_code == 403
