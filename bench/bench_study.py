"""Estimate what the full study grid costs on this machine, and time the study backends on a small grid.

1. Seconds per training step of each scale (baseline, medium, large; p = 97, batch 512, evaluation
   every 100 steps, snapshots every 200), from whole `train` calls: (time of 2n steps - time of n
   steps) / n, so set-up and the final evaluation cancel out. Scales alternate within each repeat.
2. Seconds of one `analyse` per scale, on a short run with enough snapshots for k_max = 30 PCs.
3. Wall time of `run_study` on a small grid (baseline, two weight decays x two seeds, a few hundred
   steps, no analysis) on each backend: local with one and two workers, batched, and Dask with a
   two-worker LocalCluster on 127.0.0.1 (cluster start and shutdown included). The backends take
   turns within each repeat, in a rotated order.

From 1 and 2 it prints the estimated cost of the 45 runs of the full grid, using expected step
counts built from the study's grokking times (see `expected_steps`). It never runs the full grid.

    .venv/bin/python bench/bench_study.py --out bench/results/study.json
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from holo_nb.core import SCALES, STUDY_SEEDS, WEIGHT_DECAYS, RunConfig, logger
from holo_nb.holographic import analyse
from holo_nb.study import StudyGrid, run_study
from holo_nb.train import train

# Expected steps of a run, an assumption built from the study's numbers: the companion's baseline
# (seed 42) reaches its last task at 30.5K steps at weight decay 1.0 and 165.8K at 0.1, so steps
# scale as weight_decay ** -0.735 between them (log(165.8 / 30.5) / log(10)). The medium model is
# assumed to take as long as the baseline (the study gives no number); the large model groks by
# about 6.4K steps at weight decay 1.0 and is assumed to follow the same power law. The stopping
# rule adds three evaluations (300 steps).
SLOPE = 0.735
STEPS_AT_WD1 = {"baseline": 30_500, "medium": 30_500, "large": 6_400}


def expected_steps(scale: str, weight_decay: float) -> int:
    "Expected training steps of one condition under the assumption above."
    return int(round(STEPS_AT_WD1[scale] * weight_decay ** -SLOPE)) + 300


def train_seconds(config: RunConfig, steps: int, root: Path, threads: int) -> float:
    "Seconds of one `train` call of `steps` steps into a fresh directory."
    cfg = replace(config, train=replace(config.train, max_steps=steps))
    t0 = time.perf_counter()
    train(cfg, Path(tempfile.mkdtemp(dir=root)) / "run", progress=False, threads=threads)
    return time.perf_counter() - t0


def analysis_seconds(config: RunConfig, root: Path, threads: int, snapshots: int = 33) -> float:
    "Seconds of `analyse` on a run with `snapshots` trajectory snapshots (4 steps apart)."
    cfg = replace(config, train=replace(config.train, max_steps=4 * (snapshots - 1), checkpoint_every=4))
    out = Path(tempfile.mkdtemp(dir=root)) / "run"
    train(cfg, out, progress=False, threads=threads)
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    analyse(out, progress=False, device="cpu")
    return time.perf_counter() - t0


def backend_seconds(grid: StudyGrid, root: Path, **kwargs) -> float:
    "Wall seconds of one `run_study` call on a fresh study directory."
    t0 = time.perf_counter()
    status = run_study(grid, Path(tempfile.mkdtemp(dir=root)) / "study", analysis=False, progress=False,
                       status_every=0, **kwargs)
    seconds = time.perf_counter() - t0
    assert status.counts["done"] == len(grid.conditions()), status.line()
    return seconds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=100, help="n in the 2n - n difference of part 1 (steps)")
    ap.add_argument("--repeats", type=int, default=2, help="interleaved repetitions of part 1; the median is used")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads of parts 1 and 2")
    ap.add_argument("--scales", default="baseline,medium,large", help="scales of parts 1 and 2")
    ap.add_argument("--parts", default="steps,analysis,backends", help="parts to run: steps (1), analysis (2), backends (3)")
    ap.add_argument("--grid-steps", type=int, default=200, help="steps of each run in part 3")
    ap.add_argument("--backend-repeats", type=int, default=2, help="repetitions of part 3; the median is used")
    ap.add_argument("--two-threads", action="store_true", help="part 3 also times one process with 2 torch threads")
    ap.add_argument("--out", type=Path, help="write the figures as JSON to this path")
    args = ap.parse_args(argv)

    logger.setLevel(logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    root = Path(tempfile.mkdtemp(prefix="bench_study_"))
    scales, parts = args.scales.split(","), args.parts.split(",")
    load_before = os.getloadavg()
    base = {s: RunConfig.create(scale=s, p=97, weight_decay=1.0, seed=42, device="cpu") for s in scales}
    result = {"steps": args.steps, "repeats": args.repeats, "threads": args.threads}

    samples = {s: [] for s in scales}
    for rep in range(args.repeats if "steps" in parts else 0):
        for s in scales:
            n = args.steps
            samples[s].append((train_seconds(base[s], 2 * n, root, args.threads) - train_seconds(base[s], n, root, args.threads)) / n)
            print(f"repeat {rep + 1}/{args.repeats}: {s}: {samples[s][-1] * 1000:.0f} ms/step", flush=True)
    per_step = {s: statistics.median(v) for s, v in samples.items() if v}
    result.update(seconds_per_step=samples, median_seconds_per_step=per_step)

    analysis = {}
    if "analysis" in parts:
        for s in scales:
            analysis[s] = analysis_seconds(base[s], root, args.threads)
            print(f"analyse, {s}: {analysis[s]:.0f} s", flush=True)
    result["analysis_seconds"] = analysis

    backend_samples = {}
    if "backends" in parts:
        grid = StudyGrid(scales=("baseline",), weight_decays=(1.0, 0.5), seeds=(42, 137), device="cpu",
                         train=replace(StudyGrid().train, max_steps=args.grid_steps))
        cases = {"local, 1 worker, 1 thread": dict(backend="local", workers=1, threads=1),
                 "local, 2 workers, 1 thread each": dict(backend="local", workers=2, threads=1),
                 "batched (4 runs in one call), 1 thread": dict(backend="batched", workers=1, threads=1),
                 "dask, LocalCluster of 2 workers, 1 thread each": dict(backend="dask", workers=2, threads=1)}
        if args.two_threads:
            cases["local, 1 worker, 2 threads"] = dict(backend="local", workers=1, threads=2)
            cases["batched (4 runs in one call), 2 threads"] = dict(backend="batched", workers=1, threads=2)
        backend_samples = {name: [] for name in cases}
        names = list(cases)
        for rep in range(args.backend_repeats):
            for name in names[rep % len(names):] + names[:rep % len(names)]:
                backend_samples[name].append(backend_seconds(grid, root, **cases[name]))
                print(f"repeat {rep + 1}/{args.backend_repeats}: {name}: {backend_samples[name][-1]:.1f} s", flush=True)
    backends = {name: statistics.median(v) for name, v in backend_samples.items()}
    result.update(backend_seconds=backend_samples, median_backend_seconds=backends)

    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
               f"load average {load_before[0]:.1f} before / {os.getloadavg()[0]:.1f} after")
    result["machine"] = machine
    print(f"\n{machine}\n")
    print("| scale | ms per step (median) | all repeats | analyse, s | expected steps, 15 runs | training hours, 15 runs |")
    print("|---|---|---|---|---|---|")
    total_h = 0.0
    for s in per_step:
        steps = sum(expected_steps(s, wd) for wd in WEIGHT_DECAYS) * len(STUDY_SEEDS)
        hours = (steps * per_step[s] + len(WEIGHT_DECAYS) * len(STUDY_SEEDS) * analysis.get(s, 0)) / 3600
        total_h += hours
        print(f"| {s} | {per_step[s] * 1000:.0f} | {', '.join(f'{x * 1000:.0f}' for x in samples[s])} | "
              f"{analysis.get(s, float('nan')):.0f} | {steps:,} | {hours:.1f} |")
    print(f"\nfull grid, one run at a time: {total_h:.0f} hours ({total_h / 24:.1f} days)")
    result["full_grid_hours_sequential"] = total_h
    if backends:
        runs = 4 * args.grid_steps
        print(f"\nsmall grid: baseline, weight decays 1.0 and 0.5 x seeds 42 and 137, {args.grid_steps} steps each, no analysis\n")
        print("| backend | wall s (median) | all repeats | steps per s, all runs | speed relative to 1 worker, 1 thread |")
        print("|---|---|---|---|---|")
        ref = backends["local, 1 worker, 1 thread"]
        for name, sec in backends.items():
            print(f"| {name} | {sec:.1f} | {', '.join(f'{x:.1f}' for x in backend_samples[name])} | {runs / sec:.1f} | {ref / sec:.2f} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
