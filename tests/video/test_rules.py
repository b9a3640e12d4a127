"""Rule evaluators on synthetic scenes: each fires once when its situation starts, never in the
control scene. Frames, foreground masks and tracks are drawn here, without the pipeline."""

import ast
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from video.analytics import rules
from video.analytics.rules import RULES, Schedule, build_rule
from video.analytics.types import Box, Detection, FrameAnalysis, Track, Zone

W, H = 320, 180
PARIS = ZoneInfo("Europe/Paris")
FRIDAY = datetime(2025, 3, 14, 15, 0, tzinfo=PARIS)  # a Friday afternoon
BACKGROUND = (70, 90, 70)  # BGR: a dull green-grey street


def blank():
    frame = np.empty((H, W, 3), np.uint8)
    frame[:] = BACKGROUND
    return frame


def analysis(t, *, start=FRIDAY, frame=None, foreground=None, tracks=(), detections=(),
             moving=True):
    frame = blank() if frame is None else frame
    foreground = np.zeros((H, W), np.uint8) if foreground is None else foreground
    return FrameAnalysis(t=t, wall_time=start + timedelta(seconds=t), frame=frame,
                         gray=cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), foreground=foreground,
                         motion_fraction=float((foreground > 0).mean()), moving=moving,
                         detections=list(detections), tracks=list(tracks))


def run(rule, analyses):
    return [event for item in analyses for event in rule.evaluate(item)]


def walk(track_id, path, label="person"):
    """{t: Track} along ``path`` [(t, Box)], each with the history a tracker would have built."""
    tracks, history = {}, []
    for t, box in path:
        history.append((t, *box.center))
        tracks[t] = Track(id=track_id, box=box, label=label, first_seen=path[0][0], last_seen=t,
                          history=list(history), hits=len(history))
    return tracks


def scene(times, *walks, **kwargs):
    return [analysis(t, tracks=[w[t] for w in walks if t in w], **kwargs) for t in times]


def steps(stop, fps=1, start=0):
    return [start + i / fps for i in range(round((stop - start) * fps) + 1)]


def person(x, y, w=20, h=50):
    """A standing person whose feet are at (x + w/2, y + h)."""
    return Box(int(x), int(y), w, h)


def zone(name, x0, y0, x1, y1, **kwargs):
    return Zone(name, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), **kwargs)


# --- schedules, registry, parameters ------------------------------------------------------------

def test_schedule_crossing_midnight_belongs_to_the_day_it_starts():
    friday_night = Schedule(time(22, 0), time(6, 0), days={4})
    at = lambda day, hour, minute=0: datetime(2025, 3, day, hour, minute, tzinfo=PARIS)  # noqa: E731
    assert friday_night.active(at(14, 23, 30))  # Friday
    assert friday_night.active(at(15, 3))  # Saturday morning: still Friday's night
    assert not friday_night.active(at(15, 23, 30))  # Saturday night
    assert not friday_night.active(at(14, 3))  # Friday morning: Thursday's night
    assert not friday_night.active(at(15, 6))
    day = Schedule(time(8, 0), time(18, 0))
    assert [day.active(at(17, h, m)) for h, m in ((7, 59), (8, 0), (17, 59), (18, 0))] == [
        False, True, True, False]


def test_schedule_rejects_unknown_days():
    with pytest.raises(ValueError, match="de 0 \\(lundi\\) à 6"):
        Schedule(time(22, 0), time(6, 0), days={7})


def test_registry_lists_every_rule_and_builds_with_params():
    assert set(RULES) == {
        "abandoned_object", "wrong_direction", "intrusion", "person_on_ground", "crowd_movement",
        "density", "fire_smoke", "late_gathering", "loitering", "line_crossing"}
    rule = build_rule("density", {"max_persons": 4, "min_seconds": 2}, [zone("z", 0, 0, 1, 1)])
    assert isinstance(rule, rules.Density)
    assert (rule.params.max_persons, rule.params.min_seconds, rule.params.max_fraction) == (
        4, 2, 0.5)
    assert build_rule("late_gathering", {}, []).schedule == Schedule(time(22), time(6))


@pytest.mark.parametrize("name, params, zones, message", [
    ("teleportation", {}, [], "Règle inconnue : « teleportation »"),
    ("density", {"max_people": 3}, [], "paramètre\\(s\\) inconnu\\(s\\) : max_people"),
    ("density", {"max_persons": 0}, [], "« max_persons » : doit être ≥ 1"),
    ("density", {"max_persons": 2.5}, [], "« max_persons » : un nombre entier est attendu"),
    ("density", {"max_persons": None, "max_fraction": None}, [], "donner « max_persons »"),
    ("loitering", {"max_seconds": "dix"}, [], "« max_seconds » : un nombre est attendu"),
    ("crowd_movement", {"min_fraction": 1.5}, [], "« min_fraction » : doit être ≤ 1"),
    ("crowd_movement", {"require_dispersal": "oui"}, [], "vrai ou faux"),
    ("intrusion", {"labels": "person"}, [zone("z", 0, 0, 1, 1)], "liste de libellés"),
    ("intrusion", {}, [], "« intrusion » demande au moins une zone"),
    ("wrong_direction", {}, [zone("z", 0, 0, 1, 1)], "« wrong_direction » demande"),
    ("line_crossing", {}, [Zone("l", ((0.5, 0.0),), kind="line")], "au moins 2 points"),
    ("line_crossing", {"band": 2}, [], "« band » : doit être ≤ 1"),
    ("line_crossing", {"coast_seconds": -1}, [], "« coast_seconds » : doit être ≥ 0"),
    ("abandoned_object", {"rate": 0}, [], "« rate » : doit être > 0"),
])
def test_build_rule_refuses_bad_configurations_in_french(name, params, zones, message):
    with pytest.raises(ValueError, match=message):
        build_rule(name, params, zones, None)


def test_rules_import_nothing_from_django():
    tree = ast.parse(Path(rules.__file__).read_text())
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(module.startswith("django") for module in modules)


# --- 1. abandoned object ------------------------------------------------------------------------

BAG = Box(155, 125, 16, 15)


def left_bag(times, bag_at=lambda t: BAG, owner_leaves=5.0, owner_stays=False):
    """An owner stands by a bag, then walks right out of the frame, leaving it there."""
    owner = {}
    for t in times:
        x = 140 if owner_stays or t < owner_leaves else 140 + 40 * (t - owner_leaves + 1)
        if x < W:
            owner[t] = person(x, 90)
    frames = [analysis(times[0])]  # the street, empty, when the analysis starts
    for t in times[1:]:
        mask, frame = np.zeros((H, W), np.uint8), blank()
        bag = bag_at(t)
        if bag is not None:
            for image, colour in ((mask, 255), (frame, (200, 210, 230))):
                cv2.rectangle(image, (bag.x, bag.y), (bag.x + bag.w - 1, bag.y + bag.h - 1),
                              colour, -1)
        if t in owner:
            b = owner[t]
            for image, colour in ((mask, 255), (frame, (40, 40, 40))):
                cv2.rectangle(image, (b.x, b.y), (b.x + b.w - 1, b.y + b.h - 1), colour, -1)
        frames.append(analysis(t, frame=frame, foreground=mask,
                               tracks=[walk(1, [(t, owner[t])])[t]] if t in owner else []))
    return frames


def test_abandoned_object_fires_once_when_left_and_again_when_put_back():
    rule = build_rule("abandoned_object", {"min_seconds": 10}, [])
    absent = lambda t: None if 41 <= t <= 45 else BAG  # noqa: E731
    events = run(rule, left_bag(steps(70), bag_at=absent))
    assert [e.t for e in events] == [15.0, 56.0]  # 10 s after the owner left; after put back
    # The rule's background is kept at 160 pixels wide: the box is the bag's, give or take two.
    assert events[0].box.iou(BAG) > 0.6 and events[0].zone == ""
    assert events[0].details == {"seconds": 10.0, "area": events[0].box.area}
    assert 0.6 <= events[0].confidence <= 1.0


def test_abandoned_object_ignores_a_slowly_moving_object():
    rule = build_rule("abandoned_object", {"min_seconds": 10}, [])
    drifting = lambda t: Box(BAG.x + int(2 * t) % 140, BAG.y, BAG.w, BAG.h)  # noqa: E731
    assert run(rule, left_bag(steps(40), bag_at=drifting)) == []


def test_abandoned_object_ignores_an_attended_object():
    rule = build_rule("abandoned_object", {"min_seconds": 10}, [])
    assert run(rule, left_bag(steps(40), owner_stays=True)) == []


def test_abandoned_object_only_in_its_zones():
    outside = build_rule("abandoned_object", {"min_seconds": 10}, [zone("hall", 0, 0, 0.5, 1)])
    assert run(outside, left_bag(steps(30))) == []
    inside = build_rule("abandoned_object", {"min_seconds": 10}, [zone("quai", 0.5, 0, 1, 1)])
    assert [(e.zone, e.t) for e in run(inside, left_bag(steps(30)))] == [("quai", 15.0)]


# --- 2. wrong direction -------------------------------------------------------------------------

ONE_WAY = zone("sens_unique", 0, 0.3, 1, 1, direction=(1.0, 0.0))  # travel allowed rightwards


def going(speed, times, start_x=300, moving=lambda t: True):
    """A person walking at ``speed`` px/s (negative: leftwards) while ``moving(t)``."""
    x, path, last = start_x, [], None
    for t in times:
        if last is not None and moving(t):
            x += speed * (t - last)
        path.append((t, person(x, 100)))
        last = t
    return walk(7, path)


def test_wrong_direction_fires_once_against_the_flow_and_again_after_a_stop():
    times = steps(10, fps=5)
    stops = lambda t: not 2.5 <= t < 7  # noqa: E731
    rule = build_rule("wrong_direction", {"min_speed": 20, "min_seconds": 1}, [ONE_WAY])
    events = run(rule, scene(times, going(-40, times, moving=stops)))
    # Fast enough from t = 0.2 and again from 7.4 (restarting after stopping at 2.4).
    assert [e.t for e in events] == [pytest.approx(1.2), pytest.approx(8.4)]
    assert events[0].details == {"track": 7, "speed": 40.0, "cosine": -1.0}
    assert events[0].zone == "sens_unique" and events[0].box.w == 20


@pytest.mark.parametrize("speed, stop_after", [(40, 99), (-12, 99), (-40, 0.5)])
def test_wrong_direction_stays_quiet_with_the_flow_slow_or_brief(speed, stop_after):
    times = steps(6, fps=5)
    rule = build_rule("wrong_direction", {"min_speed": 20, "min_seconds": 1}, [ONE_WAY])
    walker = going(speed, times, start_x=100, moving=lambda t: t <= stop_after)
    assert run(rule, scene(times, walker)) == []


# --- 3. intrusion -------------------------------------------------------------------------------

FORBIDDEN = zone("voies", 0.6, 0, 1, 1)  # x from 192 px


def test_intrusion_fires_once_when_a_track_enters_and_again_when_it_comes_back():
    def feet_x(t):  # in, out, and in again
        if t <= 12:
            return 100 + 10 * t
        return 230 - 10 * (t - 12) if t <= 20 else 150 + 8 * (t - 20)

    times = steps(30)
    path = [(t, person(feet_x(t) - 10, 60)) for t in times]
    rule = build_rule("intrusion", {}, [FORBIDDEN])
    events = run(rule, scene(times, walk(3, path)))
    # Feet at x = 100 + 10 t reach 192 at t = 10 (9.2 rounded up to a frame); it leaves at t = 16
    # (x 190) and is back at t = 26 (x 198).
    assert [e.t for e in events] == [10.0, 26.0]
    assert events[0].details == {"objects": 1, "source": "tracks"}
    assert events[0].box == person(190, 60) and events[0].zone == "voies"


def test_intrusion_stays_quiet_outside_the_zone_and_outside_its_schedule():
    times = steps(10)
    beside = walk(3, [(t, person(100 + 5 * t, 60)) for t in times])  # feet up to x = 160
    assert run(build_rule("intrusion", {}, [FORBIDDEN]), scene(times, beside)) == []
    inside = walk(3, [(t, person(250, 60)) for t in times])
    night = Schedule(time(22, 0), time(6, 0))
    assert run(build_rule("intrusion", {}, [FORBIDDEN], night), scene(times, inside)) == []
    late = run(build_rule("intrusion", {}, [FORBIDDEN], night),
               scene(times, inside, start=FRIDAY.replace(hour=23)))
    assert [e.t for e in late] == [0.0]


def test_intrusion_falls_back_on_foreground_blobs_when_nothing_is_detected():
    def blob(size):
        mask = np.zeros((H, W), np.uint8)
        mask[100:100 + size, 240:240 + size] = 255
        return mask

    big = run(build_rule("intrusion", {}, [FORBIDDEN]),
              [analysis(t, foreground=blob(30)) for t in steps(5)])
    assert [(e.t, e.details["source"], e.box) for e in big] == [
        (0.0, "foreground", Box(240, 100, 30, 30))]
    small = run(build_rule("intrusion", {}, [FORBIDDEN]),
                [analysis(t, foreground=blob(10)) for t in steps(5)])
    assert small == []


# --- 4. person on the ground --------------------------------------------------------------------

STANDING, LYING = person(150, 100), Box(140, 130, 50, 20)


def posture(shapes, times):
    """A person track whose box at time t is ``shapes(t)``."""
    return walk(5, [(t, shapes(t)) for t in times])


def test_person_on_ground_fires_once_after_a_fall_and_again_after_a_second_one():
    times = steps(40, fps=2)
    fallen = lambda t: LYING if 5 <= t < 20 or t >= 30 else STANDING  # noqa: E731
    rule = build_rule("person_on_ground", {"min_seconds": 5}, [])
    events = run(rule, scene(times, posture(fallen, times)))
    # Still from t = 6 (the fall itself moves the box centre ~16 px within a second).
    assert [e.t for e in events] == [11.0, 36.0]
    assert events[0].details == {"track": 5, "seconds": 5.0, "ratio": 2.5}
    assert events[0].box == LYING


def test_person_on_ground_stays_quiet_when_never_seen_standing_getting_up_or_moving():
    times = steps(20, fps=2)
    rule = build_rule("person_on_ground", {"min_seconds": 5}, [])
    assert run(rule, scene(times, posture(lambda t: LYING, times))) == []  # e.g. on a bench
    brief = lambda t: LYING if 5 <= t < 9 else STANDING  # noqa: E731
    assert run(rule, scene(times, posture(brief, times))) == []
    crawling = lambda t: STANDING if t < 5 else Box(40 + int(20 * t), 130, 50, 20)  # noqa: E731
    assert run(rule, scene(times, posture(crawling, times))) == []


# --- 5. crowd movement --------------------------------------------------------------------------

def texture(seed=0):
    noise = np.random.default_rng(seed).random((H, W)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 2.0)
    return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def warped(image, scale=1.0, dx=0.0):
    matrix = cv2.getRotationMatrix2D((W / 2, H / 2), 0, scale)
    matrix[0, 2] += dx
    # Wrapped, a translated texture keeps moving one way up to the frame's edges.
    border = cv2.BORDER_WRAP if dx else cv2.BORDER_REFLECT
    grey = cv2.warpAffine(image, matrix, (W, H), borderMode=border)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def crowd(bursts, frames=40, fps=5, step=lambda k: {"scale": 1.08 ** k}, moving=True):
    """Frames of a textured square; during ``bursts`` (frame ranges) it moves at each frame."""
    base, k, out = texture(), 0, []
    for i in range(frames):
        if any(i in burst for burst in bursts):
            k += 1
        out.append(analysis(i / fps, frame=warped(base, **step(k)), moving=moving))
    return out


def test_crowd_movement_fires_once_on_dispersal_and_again_on_a_second_one():
    rule = build_rule("crowd_movement", {}, [])
    events = run(rule, crowd([range(5, 10), range(30, 34)]))
    assert [e.t for e in events] == [1.0, 6.0]
    assert events[0].details["speed"] >= 0.08  # frame widths per second
    assert events[0].details["speed"] >= 2.5 * events[0].details["normal"]
    assert events[0].details["fraction"] >= 0.8
    assert events[0].details["dispersion"] >= 0.8


def test_crowd_movement_ignores_a_calm_scene_one_way_flow_and_a_closed_gate():
    assert run(build_rule("crowd_movement", {}, []), crowd([])) == []
    sideways = {"step": lambda k: {"dx": 6.0 * k}}
    assert run(build_rule("crowd_movement", {}, []), crowd([range(5, 15)], **sideways)) == []
    rush = run(build_rule("crowd_movement", {"require_dispersal": False}, []),
               crowd([range(5, 15)], **sideways))
    assert [e.t for e in rush] == [1.0] and rush[0].details["dispersion"] < 0.2
    assert run(build_rule("crowd_movement", {}, []), crowd([range(5, 10)], moving=False)) == []


# --- 6. density ---------------------------------------------------------------------------------

PARVIS = zone("parvis", 0, 0, 0.5, 1)  # x < 160


def crowd_of(count, x0=10):
    return [Detection(person(x0 + 10 * (i % 12), 40 + 40 * (i // 12)), 0.8) for i in range(count)]


def test_density_fires_once_when_a_crowd_lasts():
    frames = [analysis(t, detections=crowd_of(14)) for t in steps(20)]
    events = run(build_rule("density", {"max_persons": 10, "min_seconds": 5}, [PARVIS]), frames)
    assert [e.t for e in events] == [5.0]
    assert events[0].key == "density:parvis"
    assert events[0].details == {"persons": 14, "threshold": 10, "fraction": 0.0,
                                 "max_fraction": 0.5}


def test_density_by_occupied_fraction():
    def covered(share):
        mask = np.zeros((H, W), np.uint8)
        mask[:, : int(160 * share)] = 255
        return mask

    events = run(build_rule("density", {"min_seconds": 5}, [PARVIS]),
                 [analysis(t, foreground=covered(0.7)) for t in steps(10)])
    assert [(e.t, e.details["fraction"], e.details["persons"]) for e in events] == [
        (5.0, 0.7, 0)]
    assert run(build_rule("density", {"min_seconds": 5}, [PARVIS]),
               [analysis(t, foreground=covered(0.3)) for t in steps(10)]) == []


def test_density_stays_quiet_below_the_threshold_briefly_or_elsewhere():
    rule = build_rule("density", {"max_persons": 10, "min_seconds": 5}, [PARVIS])
    assert run(rule, [analysis(t, detections=crowd_of(9)) for t in steps(20)]) == []
    gaps = lambda t: crowd_of(14 if t < 4 or 9 <= t < 13 else 5)  # noqa: E731
    assert run(rule, [analysis(t, detections=gaps(t)) for t in steps(20)]) == []
    assert run(rule, [analysis(t, detections=crowd_of(14, x0=170)) for t in steps(20)]) == []


# --- 7. fire and smoke --------------------------------------------------------------------------

ORANGE = np.array([0, 140, 255], np.float32)  # BGR


def burning(radius, flicker, seconds=6, fps=5, colour=ORANGE, foreground=False):
    """A disc of ``colour`` whose radius is ``radius(t)``; each pixel's brightness varies from
    frame to frame by up to ``flicker`` (0: steady)."""
    rng, out = np.random.default_rng(1), []
    for t in steps(seconds, fps=fps):
        frame, mask = blank(), np.zeros((H, W), np.uint8)
        cv2.circle(mask, (160, 110), int(radius(t)), 255, -1)
        inside = mask > 0
        factors = 1.0 - flicker * rng.random(int(inside.sum()), np.float32)
        frame[inside] = (colour[None, :] * factors[:, None]).astype(np.uint8)
        out.append(analysis(t, frame=frame, foreground=mask if foreground else None))
    return out


def growing(t, r0=6, r1=20, over=4):
    return r0 + (r1 - r0) * min(t, over) / over


def test_fire_fires_once_on_a_flickering_growing_flame():
    events = run(build_rule("fire_smoke", {"min_seconds": 3}, []), burning(growing, 0.35))
    assert [e.t for e in events] == [3.0]
    details = events[0].details
    assert details["kind"] == "fire" and details["growth"] >= 1.5 and details["flicker"] >= 8
    assert details["area"] > 600  # radius ~16 px at t = 3
    assert 140 <= events[0].box.x <= 146 and 30 <= events[0].box.w <= 36


def test_fire_ignores_a_sign_a_flickering_light_and_a_steady_growing_patch():
    def quiet(scene):
        return run(build_rule("fire_smoke", {"min_seconds": 3}, []), scene) == []

    assert quiet(burning(lambda t: 15, 0.0))  # an orange sign
    assert quiet(burning(lambda t: 15, 0.35))  # a flickering lamp that does not grow
    assert quiet(burning(growing, 0.0))  # an orange livery coming closer


def test_smoke_is_reported_only_when_asked():
    grey = np.array([150, 150, 150], np.float32)
    plume = lambda: burning(lambda t: growing(t, 8, 30), 0.1, colour=grey, foreground=True)  # noqa: E731
    events = run(build_rule("fire_smoke", {"min_seconds": 3, "smoke": True}, []), plume())
    assert [(e.t, e.details["kind"]) for e in events] == [(3.0, "smoke")]
    assert run(build_rule("fire_smoke", {"min_seconds": 3}, []), plume()) == []


# --- 8. late gathering --------------------------------------------------------------------------

SQUARE = zone("square", 0, 0, 0.5, 1)


def group(count, start, seconds, every=10):
    return [analysis(float(t), start=start, detections=crowd_of(count))
            for t in range(0, seconds + 1, every)]


def test_late_gathering_fires_once_across_midnight():
    rule = build_rule("late_gathering", {"min_persons": 5, "min_seconds": 60}, [SQUARE])
    events = run(rule, group(6, datetime(2025, 3, 14, 23, 59, tzinfo=PARIS), 300))
    assert [e.wall_time for e in events] == [datetime(2025, 3, 15, 0, 0, tzinfo=PARIS)]
    assert events[0].details == {"persons": 6, "threshold": 5} and events[0].zone == "square"


def test_late_gathering_stays_quiet_by_day_or_when_few():
    rule = build_rule("late_gathering", {"min_persons": 5, "min_seconds": 60}, [SQUARE])
    assert run(rule, group(8, FRIDAY, 600)) == []
    assert run(rule, group(4, FRIDAY.replace(hour=23), 600)) == []
    # Gathered since 05:59:00: at 06:00 the window closes before the minute is up.
    assert run(rule, group(8, FRIDAY.replace(hour=5, minute=59), 600)) == []


def test_late_gathering_forgets_what_it_saw_before_the_schedule_closed():
    rule = build_rule("late_gathering", {"min_persons": 5, "min_seconds": 60}, [SQUARE])
    dawn = FRIDAY.replace(hour=5, minute=59, second=20)
    morning = group(6, dawn, 60)  # 40 s of gathering before 06:00, then 20 s outside
    night = [analysis(57_640.0 + t, start=dawn, detections=crowd_of(6))  # from 22:00:00
             for t in range(0, 121, 10)]
    events = run(rule, morning + night)
    # A minute after the window opened, not at once for a gathering "seen since 05:59:20".
    assert [e.wall_time.time() for e in events] == [time(22, 1)]


def test_late_gathering_with_a_friday_night_schedule():
    friday_night = Schedule(time(22, 0), time(6, 0), days={4})
    params = {"min_persons": 5, "min_seconds": 60}
    saturday_1am = datetime(2025, 3, 15, 1, 0, tzinfo=PARIS)
    assert len(run(build_rule("late_gathering", params, [SQUARE], friday_night),
                   group(6, saturday_1am, 120))) == 1
    assert run(build_rule("late_gathering", params, [SQUARE], friday_night),
               group(6, saturday_1am + timedelta(hours=22), 120)) == []


# --- loitering ----------------------------------------------------------------------------------

HALL = zone("hall", 0.5, 0, 1, 1)  # feet x >= 160


def test_loitering_counts_time_inside_the_zone_not_since_first_seen():
    times = steps(80)
    path = [(t, person(100 if t < 20 else 200 + 10 * (int(t) % 5), 60)) for t in times]
    events = run(build_rule("loitering", {"max_seconds": 30}, [HALL]), scene(times, walk(9, path)))
    assert [e.t for e in events] == [50.0]
    assert events[0].details == {"track": 9, "seconds": 30.0, "threshold": 30}


def test_loitering_stays_quiet_for_passers_by_and_short_visits():
    times = steps(80)
    passing = walk(9, [(t, person(100 + 10 * t, 60)) for t in times])  # 16 s in the hall
    assert run(build_rule("loitering", {"max_seconds": 30}, [HALL]), scene(times, passing)) == []
    # Twice 25 s, with 10 s outside in between.
    visits = walk(9, [(t, person(200 if t < 25 or 35 <= t < 60 else 100, 60)) for t in times])
    assert run(build_rule("loitering", {"max_seconds": 30}, [HALL]), scene(times, visits)) == []
    # The same visits with a shorter threshold fire once each.
    events = run(build_rule("loitering", {"max_seconds": 20}, [HALL]), scene(times, visits))
    assert [e.t for e in events] == [20.0, 55.0]
