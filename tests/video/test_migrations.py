"""Data migrations of the cameras' stored settings."""

from importlib import import_module

import pytest
from django.apps import apps

from video.models import Camera

pytestmark = pytest.mark.django_db
migration = import_module("video.migrations.0003_crowd_movement_speed")


def camera(code, analytics, **fields):
    item = Camera(code=code, name=code, stream_url="/dev/null", analytics=analytics, **fields)
    item.set_point(47.3225, 5.0352)
    item.save()
    return item


def test_crowd_movement_magnitude_becomes_a_speed_in_frame_widths_per_second():
    ten_fps = camera("cam-a", {"crowd_movement": {"params": {"magnitude": 3.2, "min_fraction": 0.4},
                                                  "zones": []},
                               "loitering": {"params": {"max_seconds": 60}}}, target_fps=10.0)
    default_fps = camera("cam-b", {"crowd_movement": {"params": {"magnitude": 3.2}}})
    both = camera("cam-c", {"crowd_movement": {"params": {"magnitude": 3.0, "speed": 0.1}}})
    untouched = camera("cam-d", {"crowd_movement": {}, "density": {"params": {"max_persons": 5}}})
    before = Camera.objects.get(pk=untouched.pk).updated_at

    migration.magnitude_to_speed(apps, None)

    # 3.2 pixels per frame × 10 frames per second / 640 pixels = 0.05 frame width per second.
    assert Camera.objects.get(pk=ten_fps.pk).analytics == {
        "crowd_movement": {"params": {"speed": 0.05, "min_fraction": 0.4}, "zones": []},
        "loitering": {"params": {"max_seconds": 60}}}
    assert Camera.objects.get(pk=default_fps.pk).analytics["crowd_movement"]["params"] == {
        "speed": 0.025}  # 5 fps, the field's default
    assert Camera.objects.get(pk=both.pk).analytics["crowd_movement"]["params"] == {"speed": 0.1}
    assert Camera.objects.get(pk=untouched.pk).updated_at == before
    for item in Camera.objects.all():
        item.full_clean()  # the rule accepts them now

    migration.speed_to_magnitude(apps, None)

    assert Camera.objects.get(pk=ten_fps.pk).analytics["crowd_movement"]["params"] == {
        "magnitude": 3.2, "min_fraction": 0.4}


def test_a_magnitude_that_is_not_a_number_is_left_for_the_check_to_report():
    item = camera("cam-e", {"crowd_movement": {"params": {"magnitude": "fort"}}})

    migration.magnitude_to_speed(apps, None)

    assert Camera.objects.get(pk=item.pk).analytics["crowd_movement"]["params"] == {
        "magnitude": "fort"}
