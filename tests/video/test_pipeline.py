"""The pipeline: masks before analysis, detection only on motion, rules on every frame."""

import ast
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from video import analytics
from video.analytics.detectors import MotionBlobDetector
from video.analytics.motion import MotionGate
from video.analytics.pipeline import STAGES, Pipeline
from video.analytics.source import FrameSource
from video.analytics.synthetic import Scene, Walker
from video.analytics.tracking import Tracker
from video.analytics.types import Detection, Event, FrameAnalysis, Zone

FPS = 10
PARIS = ZoneInfo("Europe/Paris")
UTC = UTC
LEFT_HALF = Zone("Cour privée", ((0, 0), (0.5, 0), (0.5, 1), (0, 1)), "mask")


class CountingDetector(MotionBlobDetector):
    """Moving regions as objects, counting the calls and what it was shown."""

    def __init__(self):
        super().__init__(label="object", min_area=50)
        self.calls = []

    def detect(self, frame_bgr, regions=None):
        self.calls.append(regions)
        return super().detect(frame_bgr, regions)


class RecordingRule:
    """A rule that remembers what it read and reports every frame with something moving."""

    def __init__(self):
        self.seen: list[FrameAnalysis] = []

    def evaluate(self, analysis: FrameAnalysis) -> list[Event]:
        self.seen.append(analysis)
        if not analysis.moving:
            return []
        return [Event(rule="mouvement", zone="tout", confidence=analysis.motion_fraction,
                      t=analysis.t, wall_time=analysis.wall_time)]


def walker_scene(x: float, *, appears=2.0, disappears=None) -> Scene:
    walker = Walker(start=(x, 60), velocity=(0, 40), size=(24, 40), colour=(20, 20, 20),
                    appears=appears, disappears=disappears)
    return Scene(320, 180, walkers=(walker,), noise=2.0, seed=5)


def run(pipeline: Pipeline, scene: Scene, count: int):
    return [pipeline.process(index / FPS, frame) for index, frame in
            enumerate(scene.frames(count, FPS))]


def test_a_moving_object_behind_a_mask_is_never_analysed():
    scene = walker_scene(60)  # walks down the left half
    detector = CountingDetector()
    pipeline = Pipeline(detector=detector, masks=[LEFT_HALF], motion=MotionGate())

    results = run(pipeline, scene, 40)

    assert not any(analysis.moving for analysis, _ in results)
    assert all(analysis.motion_fraction == 0 for analysis, _ in results)
    assert not results[30][0].frame[:, :160].any()  # what the rules see is masked too
    assert detector.calls == []


def test_the_same_object_without_the_mask_is_seen():
    detector = CountingDetector()
    pipeline = Pipeline(detector=detector, motion=MotionGate(), tracker=Tracker())

    results = run(pipeline, walker_scene(60), 40)

    assert all(analysis.moving for analysis, _ in results[21:])
    assert len(detector.calls) == pipeline.stats.frames_moving > 15
    analysis = results[30][0]
    assert [track.id for track in analysis.tracks] == [1]
    assert analysis.tracks[0].velocity()[1] > 20  # walking down


def test_masked_areas_keep_outside_motion_visible():
    pipeline = Pipeline(detector=CountingDetector(), masks=[LEFT_HALF], motion=MotionGate())

    results = run(pipeline, walker_scene(240), 40)

    assert all(analysis.moving for analysis, _ in results[21:])


def test_rules_read_every_analysis_and_their_events_are_returned():
    rule = RecordingRule()
    pipeline = Pipeline(detector=None, rules=[rule], motion=MotionGate())

    results = run(pipeline, walker_scene(200), 30)

    assert len(rule.seen) == 30
    assert [analysis.t for analysis in rule.seen] == pytest.approx([i / FPS for i in range(30)])
    events = [event for _, frame_events in results for event in frame_events]
    assert len(events) == sum(analysis.moving for analysis in rule.seen) >= 8
    assert {event.rule for event in events} == {"mouvement"}
    first = rule.seen[0].wall_time
    assert first.tzinfo is not None and first.utcoffset() == first.astimezone(PARIS).utcoffset()
    assert (rule.seen[20].wall_time - first).total_seconds() == pytest.approx(2.0)
    analysis = rule.seen[25]
    assert analysis.gray.shape == analysis.foreground.shape == (180, 320)
    assert analysis.size == (320, 180)


def test_default_wall_times_follow_the_stream_across_a_clock_change():
    rule = RecordingRule()
    pipeline = Pipeline(detector=None, rules=[rule])
    frame = np.zeros((90, 160, 3), np.uint8)
    pipeline.process(0.0, frame)
    # As if the stream had started at 01:30 on the night clocks go forward (2 a.m. -> 3 a.m.).
    pipeline._wall_origin = datetime(2025, 3, 30, 1, 30, tzinfo=PARIS).astimezone(UTC)

    pipeline.process(3600.0, frame)

    assert rule.seen[-1].wall_time == datetime(2025, 3, 30, 3, 30, tzinfo=PARIS)
    assert rule.seen[-1].wall_time.tzinfo == PARIS


def test_a_given_wall_time_is_passed_on():
    rule = RecordingRule()
    pipeline = Pipeline(detector=None, rules=[rule])
    when = datetime(2025, 7, 14, 22, 30, tzinfo=PARIS)

    pipeline.process(0.0, np.zeros((90, 160, 3), np.uint8), wall_time=when)

    assert rule.seen[0].wall_time == when


def test_idle_frames_skip_detection_and_age_the_tracks():
    # Someone crosses from t=1 s to t=2 s, then the scene stays empty.
    scene = walker_scene(200, appears=1.0, disappears=2.0)
    detector = CountingDetector()
    tracker = Tracker(max_missed=5)
    pipeline = Pipeline(detector=detector, motion=MotionGate(), tracker=tracker)

    results = run(pipeline, scene, 50)

    moving = [analysis.moving for analysis, _ in results]
    assert moving[:10] == [False] * 10 and moving[-20:] == [False] * 20
    assert len(detector.calls) == sum(moving) == pipeline.stats.frames_moving >= 8
    assert all(regions for regions in detector.calls)  # always restricted to moving regions
    assert results[-1][0].tracks == [] and tracker.tracks == []
    last_moving = max(index for index, value in enumerate(moving) if value)
    # After the last moving frame, the track was missed on each idle frame, then dropped.
    missed = [[track.missed for track in analysis.tracks]
              for analysis, _ in results[last_moving + 1:last_moving + 8]]
    assert missed[:5] == [[1], [2], [3], [4], [5]] and missed[6] == []


def test_detect_every_runs_the_detector_on_one_moving_frame_in_n():
    detector = CountingDetector()
    pipeline = Pipeline(detector=detector, motion=MotionGate(), detect_every=3)

    run(pipeline, walker_scene(200), 40)

    moving = pipeline.stats.frames_moving
    assert moving >= 15
    assert len(detector.calls) == pipeline.stats.detections_run == (moving + 2) // 3


def walkers_scene(*walkers: Walker) -> Scene:
    return Scene(320, 180, walkers=walkers, noise=2.0, seed=5)


def test_people_found_are_trusted_for_revisit_seconds_and_followed():
    # Someone walks down from t=2 s, 40 px/s.
    walker = Walker(start=(150, 20), velocity=(0, 40), size=(24, 40), colour=(20, 20, 20),
                    appears=2.0)
    detector = CountingDetector()
    pipeline = Pipeline(detector=detector, motion=MotionGate(), tracker=Tracker(),
                        revisit=1.0)

    results = run(pipeline, walkers_scene(walker), 50)

    searched = [round(analysis.t, 1) for (analysis, _), regions in
                zip([r for r in results if r[0].moving], detector.calls) if regions]
    first = searched[0]
    # Found at once, then confirmed about once a second rather than on every moving frame.
    assert 2.0 <= first <= 2.3
    assert len(searched) <= 5 and pipeline.stats.detections_run == len(searched)
    assert all(b - a >= 1.0 for a, b in zip(searched, searched[1:]))
    # One track all along, never counted missed, its box on the walker in between.
    for analysis, _ in results:
        if analysis.t > first + 0.05:
            (track,) = analysis.tracks
            truth = walker.box(analysis.t)
            x, y = track.box.center
            assert track.missed == 0 and track.id == 1
            assert truth.x <= x <= truth.x + truth.w and truth.y <= y <= truth.y + truth.h
    without = CountingDetector()
    run(Pipeline(detector=without, motion=MotionGate(), tracker=Tracker()),
        walkers_scene(walker), 50)
    assert sum(1 for regions in without.calls if regions) >= 5 * len(searched)


def test_someone_new_is_searched_at_once_while_the_others_are_trusted():
    first = Walker(start=(60, 20), velocity=(0, 40), size=(24, 40), colour=(20, 20, 20),
                   appears=1.0)
    newcomer = Walker(start=(250, 20), velocity=(0, 40), size=(24, 40), colour=(20, 20, 20),
                      appears=3.0)
    detector = CountingDetector()
    pipeline = Pipeline(detector=detector, motion=MotionGate(), tracker=Tracker(),
                        revisit=5.0)

    results = run(pipeline, walkers_scene(first, newcomer), 45)

    calls = iter(detector.calls)
    searched = [(round(analysis.t, 1), next(calls)) for analysis, _ in results
                if analysis.moving]
    searched = [(t, regions) for t, regions in searched if regions]
    # The newcomer's region is searched on the first frame it moves in.
    t, regions = next((t, regions) for t, regions in searched if t >= 3.0)
    assert t == 3.0 and any(region.x > 200 for region in regions)
    assert {track.id for track in results[-1][0].tracks} == {1, 2}
    assert all(track.missed == 0 for track in results[-1][0].tracks)


class WalkersDetector:
    """Finds each walker of a scene whose box meets a region searched, as a person: one box
    per person even where two are one moving blob, as a person detector gives."""

    def __init__(self, walkers):
        self.walkers = walkers
        self.t = 0.0
        self.calls = []

    def detect(self, frame_bgr, regions=None):
        self.calls.append((self.t, regions or []))
        boxes = [walker.box(self.t) for walker in self.walkers]
        return [Detection(box, 1.0, "person") for box in boxes if box is not None
                and any(box.iou(region) > 0 for region in regions or ())]


def test_people_walking_together_are_searched_at_every_detection():
    # Two walkers side by side, 4 px apart: one box could pass to the other or grow over
    # both, so neither is trusted; a third, alone, is.
    pair = [Walker(start=(x, 20), velocity=(0, 40), size=(24, 40), colour=(20, 20, 20),
                   appears=1.0) for x in (60, 88)]
    alone = Walker(start=(250, 20), velocity=(0, 40), size=(24, 40), colour=(20, 20, 20),
                   appears=1.0)
    detector = WalkersDetector([*pair, alone])
    pipeline = Pipeline(detector=detector, motion=MotionGate(), tracker=Tracker(),
                        revisit=5.0)

    for index, frame in enumerate(walkers_scene(*pair, alone).frames(45, FPS)):
        detector.t = index / FPS
        analysis, _ = pipeline.process(detector.t, frame)

    later = [regions for t, regions in detector.calls if t >= 2.0]
    assert len(later) >= 5
    assert all(any(region.x < 150 for region in regions) for regions in later)
    assert not any(region.x > 200 for regions in later for region in regions)
    assert len(analysis.tracks) == 3


def test_revisit_is_never_negative():
    with pytest.raises(ValueError, match="positif ou nul"):
        Pipeline(detector=None, revisit=-1)


def test_stage_counters_advance():
    pipeline = Pipeline(detector=CountingDetector(), rules=[RecordingRule()],
                        masks=[LEFT_HALF], motion=MotionGate(), tracker=Tracker())

    run(pipeline, walker_scene(200), 30)

    stats = pipeline.stats
    assert stats.frames == 30
    assert 0 < stats.frames_moving < 30
    assert stats.events == stats.frames_moving
    assert set(stats.seconds) == set(STAGES)
    assert all(stats.seconds[stage] > 0 for stage in STAGES)
    assert stats.total_seconds == pytest.approx(sum(stats.seconds.values()))


def test_without_a_motion_gate_every_frame_is_detected_on_whole():
    detector = CountingDetector()
    pipeline = Pipeline(detector=detector)

    run(pipeline, walker_scene(200), 5)

    assert detector.calls == [None] * 5


def test_the_pipeline_runs_a_frame_source(tmp_path):
    path = walker_scene(200).write(tmp_path / "walker.avi", 30, fps=FPS)
    rule = RecordingRule()
    pipeline = Pipeline(detector=CountingDetector(), rules=[rule], motion=MotionGate(),
                        tracker=Tracker())
    source = FrameSource(str(path), target_fps=5, size=(160, 90))

    results = list(pipeline.run(source, limit=12))

    assert len(results) == 12
    assert [analysis.t for analysis, _ in results] == pytest.approx([i / 5 for i in range(12)])
    assert results[0][0].frame.shape == (90, 160, 3)
    assert any(analysis.moving for analysis, _ in results[6:])


def test_the_input_frame_is_not_modified():
    frame = walker_scene(60).render(3.0)
    before = frame.copy()

    Pipeline(detector=CountingDetector(), masks=[LEFT_HALF]).process(0.0, frame)

    assert np.array_equal(frame, before)


ANALYSIS_MODULES = ("source", "motion", "detectors", "tracking", "privacy", "synthetic",
                    "pipeline")


@pytest.mark.parametrize("module", ANALYSIS_MODULES)
def test_the_analysis_modules_import_nothing_from_django(module):
    source = (Path(analytics.__file__).parent / f"{module}.py").read_text()

    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module)

    assert imported and not any(name.split(".")[0] == "django" for name in imported)
