"""What analysts read: CSV a French spreadsheet opens as it is, words instead of codes,
durations in minutes, no empty shift, no year-before line where nothing was recorded."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from citizens.catalogue import services_ensure_defaults
from controlroom import services as config
from controlroom.geo import h3_cell
from controlroom.models import Sector
from observatory import selectors, services
from observatory.models import Fact
from tests.citizens.conftest import DARCY, submit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

T = datetime(2025, 12, 2, 20, 30, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def analyst(client, agencies):
    user = config.user_ensure(username="ana", password=PASSWORD, role="analyst",
                              agency=agencies["pm"])
    client.force_login(user)
    return user


def add_facts(rows, batch="a"):
    sector = Sector.objects.order_by("pk").first()
    facts = Fact.objects.bulk_create([
        Fact.of(time=t, h3=h3_cell(47.32 + n / 500, 5.04), sector=sector, category=c,
                source="alert", origin=f"analyst-test:{batch}{n}") for n, (t, c) in enumerate(rows)])
    services.rollup_days({fact.local_day for fact in facts})


def test_csv_opens_in_a_french_spreadsheet(client, analyst, city, categories):
    add_facts([(T, "nuisance_sonore"), (T, "nuisance_sonore"), (T, "rixe")])
    query = {"start": "2025-11-25", "end": "2025-12-09"}

    response = client.get("/observatoire/export/categories.csv", query)

    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    text = response.content.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header == "Catégorie;Code;Nombre de faits"
    assert first == "Nuisance sonore;nuisance_sonore;2"


def test_decimal_comma_on_request(client, analyst, city, categories, monkeypatch):
    monkeypatch.setattr(selectors, "TABLES", {**selectors.TABLES, "response_times": (
        lambda f: [{"sector": "Centre", "shift": "nuit", "incidents": 2, "ack_p50": 0.8,
                    "ack_p90": None}], ["sector", "shift", "incidents", "ack_p50", "ack_p90"])})
    point = client.get("/observatoire/export/response_times.csv").content.decode("utf-8-sig")
    comma = client.get("/observatoire/export/response_times.csv",
                       {"decimal": "comma"}).content.decode("utf-8-sig")

    assert point.splitlines()[1] == "Centre;nuit;2;0.8;"
    assert comma.splitlines()[1] == "Centre;nuit;2;0,8;"
    rows = list(csv.reader(io.StringIO(comma), delimiter=";"))
    assert rows[0][3] == "Prise en compte, médiane (min)"


def test_category_labels_in_both_languages_and_citizen_reports_under_their_category(
        client, analyst, city, categories):
    services_ensure_defaults()
    from citizens.models import Service

    submit(Service.objects.get(code="nuisance-sonore"), place=DARCY,
           description="Musique très forte depuis minuit.",
           attributes={"en_cours": "oui"})
    services.facts_refresh()
    codes = set(Fact.objects.values_list("category", flat=True))
    assert not any(code.startswith("citoyen") for code in codes)
    assert "nuisance_sonore" in codes

    data = client.get("/observatoire/chiffres.json").json()
    assert {"category": "nuisance_sonore", "label": "Nuisance sonore"}.items() <= \
        next(r for r in data["categories"] if r["category"] == "nuisance_sonore").items()
    with translation.override("en"):
        english = client.get("/observatoire/chiffres.json", HTTP_ACCEPT_LANGUAGE="en").json()
    label = next(r for r in english["categories"] if r["category"] == "nuisance_sonore")["label"]
    assert label == "Noise nuisance"
    page = client.get("/observatoire/").content.decode()
    assert ">Nuisance sonore</option>" in page and ">nuisance_sonore<" not in page


def test_the_year_before_line_only_where_data_exist(city):
    add_facts([(T, "rixe"), (T + timedelta(days=7), "rixe")])
    rows = selectors.trend(selectors.Filters(start=T - timedelta(days=3),
                                             end=T + timedelta(days=10)))

    assert [row["last_year"] for row in rows] == [None, None]

    add_facts([(T - timedelta(weeks=52), "vol")], batch="b")
    rows = selectors.trend(selectors.Filters(start=T - timedelta(days=3),
                                             end=T + timedelta(days=10)))
    assert [row["last_year"] for row in rows] == [1, 0]


def test_response_times_in_minutes_without_empty_shifts(monkeypatch):
    monkeypatch.setattr(selectors, "response_times", lambda f: [
        {"sector": "Centre", "shift": "nuit", "incidents": 2, "ack_p50": 45.0,
         "ack_p90": 57.0, "dispatch_p50": None, "dispatch_p90": None,
         "on_scene_p50": 450.0, "on_scene_p90": 570.0}])
    (row,) = selectors.response_times_minutes(None)
    assert (row["ack_p50"], row["on_scene_p50"], row["on_scene_p90"]) == (0.8, 7.5, 9.5)
    assert row["dispatch_p50"] is None
    with translation.override("en"):
        assert selectors.response_times_minutes(None)[0]["shift"] == "night"


def test_a_shift_without_any_measured_delay_has_no_row(city, categories, people):
    from incidents.services import incidents as incident_services
    from tests.incidents.conftest import REPUBLIQUE

    incident_services.incident_create(by=people["operator"], category=categories["rixe"],
                                      title="Rixe", lat=REPUBLIQUE[0], lon=REPUBLIQUE[1])
    now = datetime.now(UTC)
    assert selectors.response_times(selectors.Filters(start=now - timedelta(hours=1),
                                                      end=now + timedelta(hours=1))) == []
