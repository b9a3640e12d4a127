"""The demo scaled up for load tests: counts, geography, idempotence, and the journal.

The small demo is loaded once for the class (``shared_demo``); each test scales it up, through
``load_demo`` again, and its changes roll back.
"""

import pytest

from controlroom import geo, journal
from controlroom.models import Event
from controlroom.selectors import point_in_city, sector_at
from demo.scale import SCALE_SOURCE_SYSTEM, map_object_counts
from incidents.models import Alert, Incident, Unit
from tests.conftest import load_small_demo

pytestmark = pytest.mark.django_db


def load(scale: int) -> str:
    return load_small_demo(scale=scale)


def demo_open_alerts() -> int:
    """The open alerts of the ordinary demo, which count towards the target too."""
    return (Alert.objects.filter(status__in=Alert.OPEN_STATUSES)
            .exclude(source_system=SCALE_SOURCE_SYSTEM).count())


def scaled_ids(model: str) -> set[int]:
    """The ids the ``demo.scaled`` events say were added."""
    ids = set()
    for payload in Event.objects.filter(type="demo.scaled").values_list("payload", flat=True):
        if payload["model"] == model:
            for first, last in payload["ids"]:
                ids.update(range(first, last + 1))
    return ids


@pytest.mark.usefixtures("shared_demo")
class TestTheScaledDemo:
    def test_it_tops_the_map_up_to_the_target(self):
        output = load(300)

        assert map_object_counts() == {"incidents": 120, "alerts": 150, "units": 30}
        assert "the map now shows 300 objects" in output

    def test_it_places_everything_inside_the_city_with_its_sector_and_cell(self):
        load(300)

        placed = [*Incident.objects.all(), *Alert.objects.all(), *Unit.objects.all()]
        for item in placed:
            assert point_in_city(lat=item.lat, lon=item.lon), item
            assert item.h3 == geo.h3_cell(item.lat, item.lon)
        for item in [*Incident.objects.all(), *Alert.objects.all()]:
            assert item.sector == sector_at(lat=item.lat, lon=item.lon), item

    def test_it_writes_french_titles_from_the_taxonomy(self):
        load(300)

        scaled = Alert.objects.filter(source_system=SCALE_SOURCE_SYSTEM)
        assert demo_open_alerts() >= 4  # the demo's own alerts (partners, cameras, citizens…)
        assert scaled.count() == 150 - demo_open_alerts()
        assert all(" — " in title for title in scaled.values_list("title", flat=True))
        assert scaled.values("category").distinct().count() > 5
        assert Incident.objects.filter(title__contains=" — ").count() == 120 - 4
        assert Unit.objects.filter(call_sign__startswith="PM-V-").exists()

    def test_running_it_again_adds_nothing(self):
        load(300)
        counts = (map_object_counts(), Event.objects.count())

        load(300)
        load(200)  # a smaller target removes nothing either

        assert (map_object_counts(), Event.objects.count()) == counts

    def test_a_larger_target_adds_only_the_difference(self):
        load(300)
        load(500)

        assert map_object_counts() == {"incidents": 200, "alerts": 250, "units": 50}
        sources = list(Alert.objects.filter(source_system=SCALE_SOURCE_SYSTEM)
                       .values_list("source_ref", flat=True))
        assert len(sources) == len(set(sources)) == 250 - demo_open_alerts()

    def test_every_added_row_is_journaled_and_the_chain_verifies(self):
        load(300)

        assert scaled_ids("incidents.incident") == set(
            Incident.objects.exclude(title__in=_demo_titles()).values_list("pk", flat=True))
        assert scaled_ids("incidents.alert") == set(
            Alert.objects.filter(source_system=SCALE_SOURCE_SYSTEM).values_list("pk", flat=True))
        assert len(scaled_ids("incidents.unit")) == 30 - 14  # beyond the demo's fourteen units
        assert journal.verify_chain()[1] is None


def _demo_titles() -> list[str]:
    from demo.incidents import INCIDENTS

    return [title for _code, title, *_ in INCIDENTS]
