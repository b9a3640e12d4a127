#!/usr/bin/env python
"""Video pipeline benchmark on real footage: cost per core, streams in real time, and how well.

Real-footage mode (the default): one video file (``--footage``, by default the campus clip
``../shared/data/campus-pedestrians.avi``) and its hand labels (``--points``: a CSV ``frame,x,y``,
one row per person's centre in the original frame's pixels, frames numbered as decoded from 0).
For each detector (HOG, needing nothing; YOLOX-Nano from ``--model``) it prints, on one core:
the CPU time of the whole analysis (decoding included) against decoding the same frames alone,
the 10 fps streams one core analyses in real time, the detection recall and precision against
the labels, the line-crossing count of each ``--line`` against its ``--crossings`` (true count
over the clip, or a CSV of their frames; both may be repeated; the campus clip has four labelled
lines) and the alerts raised by the rules ``--rules`` (for footage of ordinary walking, every
one is false). A city measures its own cameras by labelling a few frames the same way.
Decoding alone is timed on the same frames, read the same way; a pass with no detector says
what the rest of the analysis (motion gate, tracker, rules) costs on its own. The figures are
also printed for each part of the clip (``--split``): the detectors and the line-crossing rule
were tuned on the campus clip's frames 0-397 and its first line, frames 398-794 and the other
three lines were only measured. Each detector runs by default as deployed on a camera counting
crossings (``--detect-every``; ``--revisit``: how long people found alone are trusted,
``VIDEO_DETECT_REVISIT``, 0 on such a camera, 3 on others).

    .venv/bin/python bench/video_pipeline.py
    .venv/bin/python bench/video_pipeline.py --footage cam12.mp4 --points cam12.csv --crossings 0

``--synthetic`` runs the former benchmark on generated silhouettes instead (N streams in
``--workers`` processes): its figures say how cheap the idle path is, nothing about real cameras
(a silhouette costs the detector a tenth of a real frame).
"""

import argparse
import os
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from video.analytics.detectors import HogPersonDetector  # noqa: E402
from video.analytics.motion import MotionGate  # noqa: E402
from video.analytics.pipeline import STAGES, Pipeline  # noqa: E402
from video.analytics.source import FrameSource  # noqa: E402
from video.analytics.synthetic import Scene, Walker  # noqa: E402
from video.analytics.tracking import Tracker  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 360, 10
TARGET_STREAMS = 16
TARGET_RATIO = 1.5


def scene_for(seed: int, seconds: float, activity: float) -> Scene:
    """A street seen from a pole; walkers cross it one after another, visible ``activity`` of
    the time on average."""
    rng = np.random.default_rng(seed)
    walkers = []
    if activity > 0:
        speed, height = 90.0, 90
        crossing = (WIDTH + height) / speed
        count = max(1, round(activity * seconds / crossing))
        slot = seconds / count
        for index in range(count):
            height = int(rng.integers(60, 130))
            speed = float(rng.uniform(60, 120))
            crossing = (WIDTH + height) / speed
            appears = index * slot + float(rng.uniform(0, max(0.0, slot - crossing)))
            leftwards = bool(rng.integers(0, 2))
            start_x = WIDTH if leftwards else -height // 2
            walkers.append(Walker(
                start=(start_x, float(rng.integers(HEIGHT // 3, HEIGHT - height))),
                velocity=(-speed if leftwards else speed, float(rng.uniform(-5, 5))),
                size=(height * 2 // 5, height), shape="person",
                colour=tuple(int(c) for c in rng.integers(10, 70, 3)),
                appears=appears, disappears=appears + crossing))
    return Scene(WIDTH, HEIGHT, walkers=tuple(walkers), noise=2.0, seed=seed)


def generate(task) -> str:
    path, seed, seconds, activity, codec = task
    cv2.setNumThreads(1)
    scene_for(seed, seconds, activity).write(path, round(seconds * FPS), fps=FPS, codec=codec)
    return path


def decode_only(path: str) -> dict:
    cv2.setNumThreads(1)
    started, cpu = time.perf_counter(), time.process_time()
    frames = sum(1 for _ in FrameSource(path, target_fps=FPS, size=(WIDTH, HEIGHT)))
    return {"frames": frames, "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu}


def whole_pipeline(task) -> dict:
    path, detect_every = task
    cv2.setNumThreads(1)
    pipeline = Pipeline(detector=HogPersonDetector(), motion=MotionGate(), tracker=Tracker(),
                        detect_every=detect_every)
    started, cpu = time.perf_counter(), time.process_time()
    detections = 0
    for analysis, _ in pipeline.run(FrameSource(path, target_fps=FPS, size=(WIDTH, HEIGHT))):
        detections += len(analysis.detections)
    stats = pipeline.stats
    return {"frames": stats.frames, "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu, "moving": stats.frames_moving,
            "detector_runs": stats.detections_run, "detections": detections,
            "stages": dict(stats.seconds)}


def timed_map(pool: Pool, function, tasks) -> tuple[list, float]:
    started = time.perf_counter()
    results = pool.map(function, tasks, chunksize=1)
    return results, time.perf_counter() - started


def summarise(results: list[dict], wall: float) -> dict:
    frames = sum(r["frames"] for r in results)
    cpu = sum(r["cpu"] for r in results)
    return {"frames": frames, "wall": wall, "cpu": cpu,
            # Measured: what the workers got through, other load on the machine included.
            "wall_rate": frames / wall,
            # Capacity: frames per second of CPU, i.e. per core fully given to the analysis.
            "per_core": frames / cpu}


def print_phase(name: str, phase: dict, cores: int) -> None:
    print(f"  {name:<22} {phase['frames']} frames: {phase['per_core']:,.0f} frames/s per core "
          f"({1000 / phase['per_core']:.3f} ms CPU per frame); measured {phase['wall_rate']:,.0f}"
          f" frames/s on {cores} workers in {phase['wall']:.2f} s")


def main() -> None:
    if "--synthetic" not in sys.argv[1:]:
        from video_footage import main as footage_main

        footage_main()
        return
    sys.argv.remove("--synthetic")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=TARGET_STREAMS)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each stream")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--codec", default="mp4v",
                        help="mp4v (inter-frame, like camera streams) or MJPG (intra only)")
    parser.add_argument("--activity", type=float, default=0.2,
                        help="share of the time a walker is in view, in the 'light' scenario")
    parser.add_argument("--detect-every", default="1,3",
                        help="comma-separated values of Pipeline(detect_every=...) to measure")
    parser.add_argument("--scenarios", default="idle,light")
    args = parser.parse_args()

    cores = min(args.workers, os.cpu_count() or 1)
    every = [int(value) for value in args.detect_every.split(",")]
    suffix = ".avi" if args.codec.upper() == "MJPG" else ".mp4"
    print(f"{args.streams} streams of {args.seconds:g} s, {WIDTH}x{HEIGHT} @ {FPS} fps, "
          f"codec {args.codec}; {args.workers} worker processes on {os.cpu_count()} cores "
          f"(load average before: {os.getloadavg()[0]:.2f}); OpenCV {cv2.__version__}, "
          "one thread per worker")
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="video-bench-") as folder, \
            Pool(args.workers) as pool:
        for scenario in args.scenarios.split(","):
            activity = 0.0 if scenario == "idle" else args.activity
            tasks = [(str(Path(folder) / f"{scenario}-{index}{suffix}"), 1000 + index,
                      args.seconds, activity, args.codec) for index in range(args.streams)]
            paths, generated = timed_map(pool, generate, tasks)
            print(f"\n{scenario}: {len(paths)} streams generated in {generated:.1f} s")
            decode = summarise(*timed_map(pool, decode_only, paths))
            print_phase("decode only", decode, cores)
            for detect_every in every:
                analysed, wall = timed_map(pool, whole_pipeline,
                                           [(path, detect_every) for path in paths])
                phase = summarise(analysed, wall)
                print_phase(f"pipeline, detect 1/{detect_every}", phase, cores)
                frames = phase["frames"]
                moving = sum(r["moving"] for r in analysed)
                runs = sum(r["detector_runs"] for r in analysed)
                stages = {stage: sum(r["stages"][stage] for r in analysed) for stage in STAGES}
                per_frame = ", ".join(f"{stage} {1000 * stages[stage] / frames:.3f}"
                                      for stage in STAGES)
                print(f"    frames moving {100 * moving / frames:.1f} %, detector runs {runs}, "
                      f"{sum(r['detections'] for r in analysed)} persons detected")
                print(f"    stages, ms per frame (wall): {per_frame}"
                      + (f"; detection per run {1000 * stages['detection'] / runs:.2f} ms"
                         if runs else ""))
                ratio = decode["per_core"] / phase["per_core"]
                realtime = cores * phase["per_core"] / FPS
                print(f"    pipeline / decode only (CPU per frame): {ratio:.2f}, "
                      f"measured wall time: {wall / decode['wall']:.2f} "
                      f"(target ≤ {TARGET_RATIO})")
                print(f"    10 fps streams in real time on {cores} cores: {realtime:.0f} "
                      f"(decoding alone: {cores * decode['per_core'] / FPS:.0f}; measured in this "
                      f"run: {phase['wall_rate'] / FPS:.0f}; target ≥ {TARGET_STREAMS})")
                verdicts.append((f"{scenario}, detect 1/{detect_every}", ratio, realtime))
    print()
    for name, ratio, realtime in verdicts:
        print(f"{name}: {realtime:.0f} streams in real time on {cores} cores "
              f"({'OK' if realtime >= TARGET_STREAMS else 'BELOW TARGET'}), pipeline / decode "
              f"{ratio:.2f} ({'OK' if ratio <= TARGET_RATIO else 'ABOVE TARGET'})")


if __name__ == "__main__":
    main()
