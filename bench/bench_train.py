"""Time holo_nb's training step against a plain PyTorch loop, and batched runs against sequential ones.

Both sides run in this process, interleaved block by block, so load from other processes falls on
both in the same period.
Per-step times come from whole `train` / `train_batched` calls: a call of 2n steps minus a call of
n steps, divided by n, so set-up, the step-0 evaluation and the final evaluation cancel out.

    PYTHONPATH=. .venv/bin/python bench/bench_train.py --steps 100 --repeats 5 --compile --out bench_train.json

prints a markdown table and writes the figures as JSON to --out.
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

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from holo_nb.core import RunConfig, logger
from holo_nb.data import make_data
from holo_nb.model import HoloTransformer
from holo_nb.train import evaluate_model, train, train_batched


class ReferenceModel(nn.Module):
    "A plain model of the baseline's sizes: `nn.TransformerEncoder` (pre-norm, GELU, no dropout) and three heads."
    def __init__(self, p: int, d_model: int, n_layers: int, n_heads: int, d_ff: int, n_tasks: int):
        super().__init__()
        self.tok = nn.Embedding(p, d_model)
        self.pos = nn.Parameter(torch.randn(2, d_model) / d_model ** 0.5)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(d_model)
        self.heads = nn.ModuleList(nn.Linear(d_model, p) for _ in range(n_tasks))

    def forward(self, x):
        h = self.ln_f(self.encoder(self.tok(x) + self.pos)[:, 0])
        return [head(h) for head in self.heads]


def reference_seconds(config: RunConfig, steps: int) -> float:
    "Run `steps` steps of the plain loop (NumPy batch indexing, as the study's code does) and return the seconds taken."
    m, c = config.model, config.train
    data = make_data(config.data, config.seed)
    train_x, train_y = data.train_x.numpy(), data.train_y.numpy()
    rng = np.random.default_rng(config.seed)
    model = ReferenceModel(m.p, m.d_model, m.n_layers, m.n_heads, m.d_ff, m.n_tasks)
    opt = torch.optim.AdamW(model.parameters(), lr=c.lr, betas=c.betas, weight_decay=c.weight_decay)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = rng.integers(0, len(train_x), c.batch_size)
        x, y = torch.from_numpy(train_x[idx]), torch.from_numpy(train_y[idx])
        loss = sum(F.cross_entropy(logits, y[:, i]) for i, logits in enumerate(model(x)))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
        opt.step()
    return time.perf_counter() - t0


def train_seconds(configs: list, steps: int, root: Path, batched: bool, **kwargs) -> float:
    "Return the seconds of one `train_batched` call (batched) or of `train` calls one after another."
    configs = [replace(cfg, train=replace(cfg.train, max_steps=steps)) for cfg in configs]
    outs = [Path(tempfile.mkdtemp(dir=root)) / f"run{i}" for i in range(len(configs))]
    t0 = time.perf_counter()
    if batched: train_batched(configs, outs, progress=False, **kwargs)
    else:
        for cfg, out in zip(configs, outs): train(cfg, out, progress=False, **kwargs)
    return time.perf_counter() - t0


def per_step_ms(fn, steps: int) -> float:
    "Milliseconds per step: (time of 2n steps - time of n steps) / n."
    return (fn(2 * steps) - fn(steps)) / steps * 1000


def compiled_step_ms(config: RunConfig, steps: int, root: Path, eval_ms: float, **kwargs) -> float:
    """Milliseconds per step of `train`, timed between the evaluations at steps n and 2n, less one evaluation.

    Compilation happens in the first step, outside the timed interval, so this also times compiled training."""
    stamps = {}
    cfg = replace(config, train=replace(config.train, max_steps=2 * steps, eval_every=steps))
    train(cfg, Path(tempfile.mkdtemp(dir=root)) / "run", progress=False,
          callback=lambda record: stamps.__setitem__(record["step"], time.perf_counter()), **kwargs)
    return ((stamps[2 * steps] - stamps[steps]) * 1000 - eval_ms) / steps


def evaluation_ms(config: RunConfig, repeats: int = 5) -> float:
    "Milliseconds of one `evaluate_model` call on all pairs."
    data, model = make_data(config.data, config.seed), HoloTransformer(config.model)
    evaluate_model(model, data)
    t0 = time.perf_counter()
    for _ in range(repeats): evaluate_model(model, data)
    return (time.perf_counter() - t0) / repeats * 1000


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=100, help="n in the 2n - n difference (steps)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repetitions; the table shows the median")
    ap.add_argument("--runs", type=int, default=3, help="runs in the batched comparison")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for every measurement")
    ap.add_argument("--compile", action="store_true", help="also time train(compile_model=True)")
    ap.add_argument("--other-threads", type=int, help="also time train with this many torch CPU threads")
    ap.add_argument("--out", type=Path, help="write the figures as JSON to this path")
    args = ap.parse_args(argv)

    logger.setLevel(logging.WARNING)  # keep the table readable; train respects this level
    torch.set_num_threads(args.threads)
    config = RunConfig.create(scale="baseline", p=97, weight_decay=1.0, seed=42, device="cpu",
                              train=dict(eval_every=10**6, checkpoint_every=10**6, resume_every=10**6))
    sweep = [replace(config, train=replace(config.train, weight_decay=wd)) for wd in (1.0, 0.5, 0.1, 0.3, 0.2)[:args.runs]]
    root = Path(tempfile.mkdtemp(prefix="bench_train_"))
    load_before = os.getloadavg()
    n = args.steps
    eval_ms = evaluation_ms(config)
    ref_name = "reference loop (nn.TransformerEncoder, NumPy indexing)"
    seq_name, bat_name = f"{args.runs} runs, train one after another", f"{args.runs} runs, train_batched"
    timers = {
        ref_name: lambda: per_step_ms(lambda s: reference_seconds(config, s), n),
        "holo_nb train": lambda: per_step_ms(lambda s: train_seconds([config], s, root, False, threads=args.threads), n),
    }
    if args.other_threads:
        timers[f"holo_nb train, {args.other_threads} threads"] = lambda: per_step_ms(
            lambda s: train_seconds([config], s, root, False, threads=args.other_threads), n)
    if args.compile:
        timers["holo_nb train, timed between evaluations"] = lambda: compiled_step_ms(config, n, root, eval_ms, threads=args.threads)
        timers["holo_nb train, compile_model=True, timed between evaluations"] = lambda: compiled_step_ms(
            config, n, root, eval_ms, threads=args.threads, compile_model=True)
    timers[seq_name] = lambda: per_step_ms(
        lambda s: train_seconds(sweep, s, root, False, threads=args.threads), n)
    timers[bat_name] = lambda: per_step_ms(
        lambda s: train_seconds(sweep, s, root, True, threads=args.threads), n)
    samples = {k: [] for k in timers}
    for rep in range(args.repeats):
        for name, fn in timers.items():
            samples[name].append(fn())
            print(f"repeat {rep + 1}/{args.repeats}: {name}: {samples[name][-1]:.1f} ms/step", flush=True)

    med = {k: statistics.median(v) for k, v in samples.items()}
    ref, seq, bat = med[ref_name], med[seq_name], med[bat_name]
    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} thread(s), "
               f"load average {load_before[0]:.1f} before / {os.getloadavg()[0]:.1f} after")
    print(f"\nBaseline scale, p = 97, batch 512, {n} and {2 * n} steps, median of {args.repeats}; {machine}\n")
    print("| measurement | ms per step (median) | all repeats | relative to the reference loop |")
    print("|---|---|---|---|")
    for name, v in samples.items():
        print(f"| {name} | {med[name]:.1f} | {', '.join(f'{x:.1f}' for x in v)} | {med[name] / ref:.2f} |")
    paired = {name: statistics.median(a / b for a, b in zip(samples[name], samples[ref_name])) for name in samples}
    batched_paired = statistics.median(b / a for a, b in zip(samples[seq_name], samples[bat_name]))
    print("\nmedian over repeats of the ratio to the reference loop measured in the same repeat: "
          + ", ".join(f"{name}: {r:.2f}" for name, r in paired.items() if name != ref_name))
    print(f"batched / sequential time for {args.runs} runs: {bat / seq:.2f} (medians), "
          f"{batched_paired:.2f} (median of per-repeat ratios)")
    print(f"one evaluation of all pairs (evaluate_model): {eval_ms:.0f} ms")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"machine": machine, "steps": n, "repeats": args.repeats, "threads": args.threads,
                                        "ms_per_step": samples, "median_ms_per_step": med,
                                        "median_ratio_to_reference_per_repeat": paired,
                                        "batched_over_sequential": bat / seq,
                                        "batched_over_sequential_per_repeat_median": batched_paired,
                                        "evaluation_ms": eval_ms}, indent=2) + "\n")


if __name__ == "__main__":
    main()
