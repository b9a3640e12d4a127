"""One event, one alert: sensors and cameras that saw the same thing (same category, close in
time and space) gather on one alert that counts its sources."""

from datetime import timedelta

import pytest
from django.utils import timezone

from controlroom.models import Event
from incidents import replay
from incidents.models import Alert
from incidents.services import alerts as services
from tests.incidents.conftest import DARCY, REPUBLIQUE

# About 60 m east of place Darcy.
NEAR_DARCY = (47.3225, 5.0360)


@pytest.fixture
def detect(city, categories, people):
    def make(emitter, place=DARCY, category="attroupement", source="camera", **extra):
        return services.alert_receive(
            by="system:video", source=source, category=categories[category], title="Détonation",
            lat=place[0], lon=place[1], severity=1, emitter=emitter,
            **{"dedup_key": f"{emitter}:{category}", **extra},
        )

    return make


@pytest.mark.django_db
def test_three_emitters_of_one_event_make_one_alert_with_three_sources(detect):
    first = detect("camera:CAM-1").alert
    second = detect("camera:CAM-2", place=NEAR_DARCY)
    third = detect("sound:SON-1", place=NEAR_DARCY, source="sensor")
    assert not second.created and not third.created
    assert second.alert.pk == third.alert.pk == first.pk
    assert Alert.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.source_count == 3
    assert [s["emitter"] for s in alert.sources] == ["camera:CAM-1", "camera:CAM-2",
                                                      "sound:SON-1"]
    grouped = list(Event.objects.filter(type="alert.grouped").order_by("seq"))
    assert len(grouped) == 2
    assert grouped[-1].payload["source_count"] == 3
    assert grouped[-1].payload["joined"]["emitter"] == "sound:SON-1"


@pytest.mark.django_db
def test_the_same_emitter_again_is_a_repeat_not_a_new_source(detect):
    detect("camera:CAM-1")
    detect("camera:CAM-1")
    alert = Alert.objects.get()
    assert (alert.source_count, alert.repeat_count) == (1, 2)
    assert not Event.objects.filter(type="alert.grouped").exists()


@pytest.mark.django_db
def test_far_apart_or_another_category_or_an_operator_stays_apart(detect, categories, people):
    detect("camera:CAM-1")
    detect("camera:CAM-9", place=REPUBLIQUE)  # about 900 m away
    detect("camera:CAM-2", place=NEAR_DARCY, category="rixe")
    services.alert_receive(by=people["operator"], source="operator",
                           category=categories["attroupement"], title="Attroupement",
                           lat=DARCY[0], lon=DARCY[1])
    assert Alert.objects.count() == 4
    assert set(Alert.objects.values_list("source_count", flat=True)) == {1}


@pytest.mark.django_db
def test_after_the_window_a_new_alert_is_opened(detect, settings):
    first = detect("camera:CAM-1").alert
    Alert.objects.filter(pk=first.pk).update(
        last_seen_at=timezone.now() - timedelta(seconds=settings.ALERT_GROUP_SECONDS + 5))
    assert detect("camera:CAM-2", place=NEAR_DARCY).created


@pytest.mark.django_db
def test_thresholds_are_settings(detect, settings):
    settings.ALERT_GROUP_RADIUS_M = 20
    detect("camera:CAM-1")
    assert detect("camera:CAM-2", place=NEAR_DARCY).created
    settings.ALERT_GROUP_SECONDS = 0
    assert detect("camera:CAM-3", place=DARCY).created


@pytest.mark.django_db
def test_a_dismissed_alert_gathers_nothing(detect, people):
    first = detect("camera:CAM-1").alert
    services.alert_dismiss(alert=first, by=people["operator"], reason="false_alarm")
    assert detect("camera:CAM-2", place=NEAR_DARCY).created


@pytest.mark.django_db
def test_replay_counts_the_sources_as_the_tables_do(detect):
    detect("camera:CAM-1")
    detect("camera:CAM-2", place=NEAR_DARCY)
    state = replay.state_at(seq=Event.objects.order_by("-seq").first().seq,
                            use_checkpoints=False)
    [item] = state["alerts"].values()
    assert item["source_count"] == 2
    assert replay.live_state()["alerts"] == state["alerts"]


@pytest.mark.django_db
def test_an_alert_without_a_named_emitter_gathers_nothing(detect, categories):
    services.alert_receive(by="system:rules", source="sensor", category=categories["attroupement"],
                           title="Seuil dépassé", lat=DARCY[0], lon=DARCY[1])
    assert detect("camera:CAM-1", place=NEAR_DARCY).created
    assert Alert.objects.count() == 2


@pytest.mark.django_db
def test_what_one_emitter_tells_apart_stays_apart(detect):
    """Two zones of one camera are two situations: its own dedup keys keep them apart."""
    detect("camera:CAM-1", dedup_key="camera:CAM-1:intrusion:voies")
    assert detect("camera:CAM-1", dedup_key="camera:CAM-1:intrusion:quai").created
    # Another camera joins the first one it is near.
    assert not detect("camera:CAM-2", place=NEAR_DARCY).created
