"""Time trajectory PCA and the reconstruction sweeps against the naive approach.

For each scale a synthetic trajectory of the real model's size is written to a temporary
directory: theta(t) = theta(0) + a smooth drift in a few fixed directions + a Gaussian random
walk, one float32 snapshot per step. Then, each method in its own subprocess so that its peak
memory is its own:

- PCA: `trajectory_pca` (T x T Gram matrix, column chunks) against `numpy.linalg.svd` of the
  dense T x P displacement matrix (float64, as numpy computes it);
- PC sweep: `pc_accuracy_sweep` (k = 0..k_max, the final model and the five single-PC
  removals, batched) against one plain model evaluation per vector;
- per-matrix SVD sweep: `per_matrix_svd_sweep` (default rank grid, batched) against one
  truncation and one plain model evaluation per rank;
- vmap chunks: `evaluate_params` on 16 snapshots with one parameter set per forward pass
  against chunks of 8 (vmap), to check the CPU default of one at a time.

The reference and the candidate alternate within each repeat so that load from other processes
hits both alike. Results go to JSON (--out) and a markdown table (--markdown).

Run from the repository root:  .venv/bin/python bench/bench_analysis.py --out bench/analysis.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any directory, without relying on the editable install

import numpy as np
import torch

from holo_nb.core import DataConfig, ModelConfig, ParamLayout, Trajectory, TrajectoryWriter, library_versions
from holo_nb.data import correct_counts, make_data
from holo_nb.evaluate import evaluate_params
from holo_nb.model import HoloTransformer
from holo_nb.svd import per_matrix_reconstructions, per_matrix_svd_sweep, rank_grid
from holo_nb.trajectory_pca import (pc_accuracy_sweep, pc_reconstructions, pc_removals, subset_mask,
                                    trajectory_pca)

PAIRS = {"pca": ("pca_dense", "pca_gram"), "pc_sweep": ("pc_sweep_naive", "pc_sweep_batched"),
         "svd_sweep": ("svd_sweep_naive", "svd_sweep_batched"), "vmap_chunk": ("eval_chunk1", "eval_chunk8")}


def write_synthetic(path: Path, scale: str, n_snapshots: int, seed: int = 0) -> Trajectory:
    "Write `n_snapshots` + 1 snapshots (steps 0, 100, ...) of a random walk plus a rank-4 drift."
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = HoloTransformer(ModelConfig.from_scale(scale))
    layout = ParamLayout.from_model(model)
    theta0 = layout.flatten(model).numpy().astype(np.float64)
    directions = rng.normal(size=(4, layout.n_params)) / np.sqrt(layout.n_params)
    walk = np.zeros(layout.n_params)
    writer = TrajectoryWriter(path, layout)
    for t in range(n_snapshots + 1):
        s = t / n_snapshots
        drift = np.array([s, s ** 2, np.sin(3 * s), np.sqrt(s)]) @ directions
        writer.append(100 * t, theta0 + 5.0 * drift + walk)
        walk += rng.normal(scale=2e-4, size=layout.n_params)
    return Trajectory(path)


class AnonPeak:
    "Sample this process's anonymous resident memory (RssAnon) every 5 ms and keep the maximum."
    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"): return int(line.split()[1]) * 1024
        return 0

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def naive_scores(config, layout, vectors, x, y) -> list:
    "Load each vector into the plain model and count correct predictions on (x, y)."
    model = HoloTransformer(config).eval()
    with torch.no_grad():
        return [correct_counts(layout.load_into(model, v)(x), y).tolist() for v in vectors]


def _pca_dense(c):
    mask = subset_mask(c.layout, "trunk")
    idx = c.traj.select(c.snapshots, drop_first=True)
    X = np.stack([c.traj.load(i)[mask] for i in idx]).astype(np.float64) - c.theta_init[mask]
    np.linalg.svd(X, full_matrices=False)


def _pc_sweep_naive(c):
    ks = range(min(c.k_max, c.pca.n_components) + 1)
    vectors = [pc_reconstructions(c.pca, c.theta_init, c.theta_final, [k])[0] for k in ks]
    vectors += [c.theta_final] + list(pc_removals(c.pca, c.theta_init, c.theta_final, min(5, c.pca.n_components)))
    naive_scores(c.config, c.layout, vectors, c.data.test_x, c.data.test_y)


def _svd_sweep_naive(c):
    vectors = [per_matrix_reconstructions(c.theta_init, c.theta_final, c.layout, [r])[0][0]
               for r in rank_grid(c.config.d_model)]
    naive_scores(c.config, c.layout, vectors + [c.theta_final], c.data.test_x, c.data.test_y)


def _eval_chunks(c, chunk_size: int):
    vectors = np.stack([c.traj.load(i) for i in c.traj.select(16)])
    evaluate_params(c.config, c.layout, vectors, c.data, chunk_size=chunk_size)


METHODS = {
    "pca_gram": lambda c: trajectory_pca(c.traj, max_snapshots=c.snapshots, n_components=c.k_max, progress=False),
    "pca_dense": _pca_dense,
    "pc_sweep_batched": lambda c: pc_accuracy_sweep(c.config, c.layout, c.pca, c.theta_init, c.theta_final, c.data,
                                                    k_max=c.k_max, progress=False),
    "pc_sweep_naive": _pc_sweep_naive,
    "svd_sweep_batched": lambda c: per_matrix_svd_sweep(c.config, c.layout, c.theta_init, c.theta_final, c.data,
                                                        progress=False),
    "svd_sweep_naive": _svd_sweep_naive,
    "eval_chunk1": lambda c: _eval_chunks(c, 1),
    "eval_chunk8": lambda c: _eval_chunks(c, 8),
}


def run_child(args) -> dict:
    "Run one method once in this process and return its time and memory."
    c = argparse.Namespace(traj=Trajectory(args.traj), config=ModelConfig.from_scale(args.scale),
                           snapshots=args.snapshots, k_max=args.k_max, pca=None)
    c.layout = c.traj.layout
    c.theta_init, c.theta_final = np.array(c.traj.load(0)), np.array(c.traj.load(len(c.traj) - 1))
    c.data = make_data(DataConfig(p=c.config.p), 42)
    if args.method.startswith("pc_sweep"):
        c.pca = trajectory_pca(c.traj, max_snapshots=c.snapshots, n_components=c.k_max, progress=False)

    baseline = AnonPeak.now()
    with AnonPeak() as mem:
        start = time.perf_counter()
        METHODS[args.method](c)
        seconds = time.perf_counter() - start
    return dict(seconds=seconds, peak_anon_mib=mem.peak / 2 ** 20, baseline_anon_mib=baseline / 2 ** 20,
                maxrss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def spawn(method: str, traj: Path, scale: str, snapshots: int, k_max: int, threads: int) -> dict:
    "Run one method in a fresh Python process with `threads` BLAS and torch threads, and return its record."
    cmd = [sys.executable, __file__, "--child", method, "--traj", str(traj), "--scale", scale,
           "--child-snapshots", str(snapshots), "--k-max", str(k_max), "--threads", str(threads)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{method} on {scale} failed (exit {res.returncode}):\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def markdown_table(rows: list) -> str:
    "Return the results as a markdown table; memory is the peak anonymous memory above the process's start."
    lines = ["| scale | task | snapshots | reference | time (s) | candidate | time (s) | speed-up | "
             "added memory MiB, ref / cand |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scale']} | {r['task']} | {r['snapshots']} | {r['reference']} | {r['reference_s']:.2f} | "
                     f"{r['candidate']} | {r['candidate_s']:.2f} | {r['speedup']:.2f}x | "
                     f"{r['reference_added_mib']:.0f} / {r['candidate_added_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", nargs="+", default=["baseline", "large"], help="model scales to benchmark")
    ap.add_argument("--snapshots", type=int, nargs="+", default=[100, 150],
                    help="snapshots after step 0, one number per scale")
    ap.add_argument("--dense-snapshots", type=int, nargs="+", default=[100, 100],
                    help="snapshots for the dense-SVD comparison, one number per scale (fewer when the dense SVD is too big)")
    ap.add_argument("--tasks", nargs="+", default=list(PAIRS), choices=list(PAIRS), help="comparisons to run")
    ap.add_argument("--k-max", type=int, default=30, help="largest number of PCs in the sweep")
    ap.add_argument("--repeats", type=int, default=2, help="runs of each method (the median is reported)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS and torch threads per method (default 1, because on a shared 2-core machine "
                         "OpenBLAS ran small SVDs far slower with 2 threads, see bench/README.md)")
    ap.add_argument("--out", type=Path, help="write the results as JSON to this file")
    ap.add_argument("--markdown", type=Path, help="write the table as markdown to this file")
    ap.add_argument("--workdir", type=Path, help="directory for the synthetic trajectories (default: a temporary one, deleted)")
    # internal: run one method in a subprocess
    ap.add_argument("--child", choices=list(METHODS), help=argparse.SUPPRESS)
    ap.add_argument("--traj", help=argparse.SUPPRESS)
    ap.add_argument("--scale", help=argparse.SUPPRESS)
    ap.add_argument("--child-snapshots", type=int, dest="child_snapshots", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        torch.set_num_threads(args.threads)
        args.method, args.snapshots = args.child, args.child_snapshots
        print(json.dumps(run_child(args)))
        return
    for name in ("snapshots", "dense_snapshots"):
        if len(getattr(args, name)) != len(args.scales):
            ap.error(f"--{name.replace('_', '-')} has {len(getattr(args, name))} values for {len(args.scales)} scales: give one per scale")

    tmp = tempfile.TemporaryDirectory(dir=args.workdir)
    rows, started = [], time.time()
    try:
        for scale, n_snap, n_dense in zip(args.scales, args.snapshots, args.dense_snapshots):
            t0 = time.perf_counter()
            traj = write_synthetic(Path(tmp.name) / scale, scale, n_snap)
            print(f"{scale}: wrote {traj} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            for task in args.tasks:
                ref, cand = PAIRS[task]
                snaps = n_dense if task == "pca" else n_snap
                runs = {ref: [], cand: []}
                for rep in range(args.repeats):
                    for method in ((ref, cand) if rep % 2 == 0 else (cand, ref)):
                        runs[method].append(spawn(method, traj.path, scale, snaps, args.k_max, args.threads))
                        print(f"  {scale} {method}: {runs[method][-1]['seconds']:.2f} s", file=sys.stderr)
                med = {m: float(np.median([r["seconds"] for r in v])) for m, v in runs.items()}
                added = {m: max(r["peak_anon_mib"] - r["baseline_anon_mib"] for r in v) for m, v in runs.items()}
                rows.append(dict(scale=scale, task=task, snapshots=snaps, n_params=traj.n_params,
                                 reference=ref, candidate=cand, reference_s=med[ref], candidate_s=med[cand],
                                 speedup=med[ref] / med[cand], reference_added_mib=added[ref],
                                 candidate_added_mib=added[cand], runs=runs))
    finally:
        tmp.cleanup()

    table = markdown_table(rows)
    print(table)
    record = dict(command="python " + " ".join([os.path.relpath(__file__, ROOT)] + (argv or sys.argv[1:])),
                  machine=dict(**library_versions(), cpu_count=os.cpu_count(), load_average_at_end=os.getloadavg()),
                  wall_s=time.time() - started, k_max=args.k_max, repeats=args.repeats, threads=args.threads,
                  results=rows)
    if args.out: args.out.write_text(json.dumps(record, indent=2) + "\n")
    if args.markdown: args.markdown.write_text(table)


if __name__ == "__main__":
    main()
