"""The fact table against its sources, the synthetic history, the forecast run and the
"normal or abnormal" alert, on the database."""

from datetime import UTC, datetime, timedelta

import pytest

from controlroom.models import Event, Sector
from demo.city import DIJON_OUTLINE
from incidents.models import Alert, Exercise
from incidents.services import alerts as alert_services
from observatory import services
from observatory.models import Fact, ForecastRun, PublicEvent, WeatherHour
from tests.incidents.conftest import GARE, REPUBLIQUE

pytestmark = pytest.mark.django_db

OUTLINE = [(lat, lon) for lon, lat in DIJON_OUTLINE]
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_facts_follow_their_sources_once_and_leave_exercises_out(city, categories, people,
                                                                make_incident):
    for place in (REPUBLIQUE, GARE):
        alert_services.alert_receive(by="system:test", source="sensor",
                                     category=categories["rixe"], title="Bruit", lat=place[0],
                                     lon=place[1], severity=3)
    make_incident(category="incendie")
    drill = Exercise.objects.create(scenario="x", name="Exercice", started_at=NOW)
    alert_services.alert_receive(by="system:test", source="camera", category=categories["rixe"],
                                 title="Exercice", lat=GARE[0], lon=GARE[1], exercise=drill)
    assert services.facts_refresh() == {"read": 3, "added": 3}
    assert services.facts_refresh() == {"read": 3, "added": 0}  # idempotent
    alerts = Fact.objects.filter(source="alert").order_by("time")
    assert [(f.category, f.h3, f.sector_id) for f in alerts] == [
        (a.category.code, a.h3, a.sector_id)
        for a in Alert.objects.filter(exercise=None).order_by("received_at")]
    assert Fact.objects.get(source="incident").category == "incendie"
    assert not Fact.objects.filter(origin=f"alert:{Alert.objects.get(exercise=drill).pk}")
    # Nothing personal: the fact table has no free text at all.
    text_fields = {f.name for f in Fact._meta.get_fields()
                   if f.get_internal_type() in ("TextField",)}
    assert text_fields == set()


@pytest.fixture
def history(city, categories):
    """Six months of a synthetic Dijon ending at NOW, and the forecast from it."""
    loaded = services.synthetic_history_load(outline=OUTLINE, seed=5, days=182, end=NOW)
    run = services.forecast_refresh(now=NOW)
    return loaded, run


def test_the_synthetic_history_loads_once_with_its_context(history):
    loaded, run = history
    assert loaded["facts"] == Fact.objects.filter(source="synthetic").count() > 5000
    again = services.synthetic_history_load(outline=OUTLINE, seed=5, days=182, end=NOW)
    assert again["facts"] == 0
    assert WeatherHour.objects.count() == 182 * 24 and PublicEvent.objects.exists()
    assert Fact.objects.filter(sector=None).count() < 0.2 * loaded["facts"]
    # The daily counts the dashboards read add up to the facts, day by day.
    from django.db.models import Count, Sum

    from observatory.models import DailyCount

    per_day = dict(Fact.objects.order_by().values_list("local_day").annotate(n=Count("id")))
    rolled = dict(DailyCount.objects.order_by().values_list("day").annotate(n=Sum("count")))
    assert per_day == rolled


def test_the_forecast_run_keeps_its_evaluation_and_its_hours(history):
    _loaded, run = history
    assert run is not None and run.origin == NOW
    e = run.evaluation
    assert e["weeks"] == 4 and e["share"] == 0.05 and e["facts"] > 5000
    assert e["model_pai"] > 0 and e["baseline_pai"] > 0
    assert e["from"] < e["to"] == NOW.isoformat()
    cell = run.cells.order_by("-expected_week").first()
    assert len(cell.expected_hours) == 168
    assert sum(cell.expected_hours) == pytest.approx(cell.expected_week, rel=1e-3)
    event = Event.objects.get(type="observatory.forecast_computed")
    assert event.payload["model_pai"] == e["model_pai"]
    # Too little history: no forecast rather than a meaningless one.
    assert services.forecast_refresh(now=NOW - timedelta(days=120)) is None


def test_an_injected_excess_becomes_an_alert_with_its_evidence(history):
    _loaded, run = history
    hour = NOW + timedelta(hours=2)
    sector = Sector.objects.get(code="centre-ville") if Sector.objects.filter(
        code="centre-ville").exists() else Sector.objects.order_by("pk").first()
    cell = Fact.objects.filter(sector=sector).values_list("h3", flat=True).first()
    # A normal hour raises nothing.
    assert services.anomalies_check(now=hour + timedelta(hours=1)) == []
    Fact.objects.bulk_create([
        Fact.of(time=hour + timedelta(minutes=3 * n), h3=cell, sector=sector,
                category="rixe", source="alert", origin=f"test:{n}") for n in range(12)])
    raised = services.anomalies_check(now=hour + timedelta(hours=1))
    assert len(raised) == 1
    alert = raised[0]
    assert alert.source == "observatory" and alert.category.code == "rixe"
    assert alert.evidence["observed"] == 12
    assert alert.evidence["expected"] < 2 and alert.evidence["p_value"] < 0.001
    assert alert.evidence["sector"] == sector.name and alert.sector_id == sector.pk
    # Checked again: the same alert, counted again, not a second one.
    services.anomalies_check(now=hour + timedelta(hours=1))
    assert Alert.objects.filter(source="observatory").count() == 1
    assert ForecastRun.objects.count() == 1


def test_sensor_and_video_aggregates_become_facts(city, categories):
    from django.utils import timezone

    from devices.models import Device, TelemetryBucket
    from video.models import Camera, ZoneStatistic

    device = Device.objects.create(code="sono", name="Sonomètre", kind="noise_sensor",
                                   address="sono", lat=REPUBLIQUE[0], lon=REPUBLIQUE[1])
    camera = Camera.objects.create(code="cam", name="Caméra", stream_url="x.mp4",
                                   lat=GARE[0], lon=GARE[1])
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for n, leq in enumerate((75.0, 62.0)):  # one bucket over 70 dB(A), one under
        TelemetryBucket.objects.create(device=device, metric="laeq_db",
                                       start=hour + timedelta(minutes=15 * n), seconds=900,
                                       count=90, mean=leq, minimum=leq - 5, maximum=leq + 5,
                                       leq=leq)
    ZoneStatistic.objects.create(camera=camera, zone="parvis", period_start=hour, samples=60,
                                 people_sum=900, people_max=42)
    ZoneStatistic.objects.create(camera=camera, zone="parvis", samples=1, people_max=3,
                                 period_start=timezone.now().replace(minute=0, second=0,
                                                                     microsecond=0))
    services.facts_refresh()
    sensor = Fact.objects.get(source="sensor")
    assert (sensor.category, sensor.weight, sensor.h3) == ("depassement_sonore", 0.25,
                                                          device.h3)
    video = Fact.objects.get(source="video")  # the hour under way is not counted yet
    assert (video.category, video.weight, video.h3) == ("affluence", 42.0, camera.h3)
    assert services.facts_refresh()["added"] == 0
