"""Crowd movement's threshold, stored as ``magnitude`` (pixels of the analysed frame per analysed
frame), becomes ``speed`` (frame widths per second), the only one the rule now accepts.

    speed = magnitude × analysed fps / analysed width

The analysed fps is the camera's ``target_fps`` (5 when it holds no usable value, the field's
default); the analysed width is not stored, so it is the one the analysis used by default, 640
pixels (``VIDEO_ANALYSIS_SIZE``; a 4:3 camera was analysed 480 wide, so its converted threshold
is a quarter lower than its old one was, i.e. a little more sensitive). A config that already has
a ``speed`` keeps it, and loses ``magnitude``. Reversible the same way.
"""

import math

from django.db import migrations

RULE = "crowd_movement"
DEFAULT_FPS = 5.0
DEFAULT_WIDTH = 640


def _fps(camera) -> float:
    fps = camera.target_fps
    return fps if isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0 else DEFAULT_FPS


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _convert(apps, old: str, new: str, factor) -> None:
    Camera = apps.get_model("video", "Camera")
    for camera in Camera.objects.all():
        config = (camera.analytics or {}).get(RULE) if isinstance(camera.analytics, dict) else None
        params = config.get("params") if isinstance(config, dict) else None
        if not isinstance(params, dict) or old not in params:
            continue
        value = params.pop(old)
        if new not in params and _number(value):
            params[new] = round(value * factor(camera), 6)
        elif new not in params:
            params[old] = value  # not a number: left for the camera's check to report
            continue
        camera.save(update_fields=["analytics", "updated_at"])


def magnitude_to_speed(apps, schema_editor):
    _convert(apps, "magnitude", "speed", lambda camera: _fps(camera) / DEFAULT_WIDTH)


def speed_to_magnitude(apps, schema_editor):
    _convert(apps, "speed", "magnitude", lambda camera: DEFAULT_WIDTH / _fps(camera))


class Migration(migrations.Migration):

    dependencies = [
        ("video", "0002_analysis_snapshots_screens"),
    ]

    operations = [
        migrations.RunPython(magnitude_to_speed, speed_to_magnitude),
    ]
