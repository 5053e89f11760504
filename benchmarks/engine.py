"""Engine benchmark: Adam on Rosenbrock over a grid of starts, optviz's engine against torch.optim.

Three ways to take the same steps, in one process, reported as point-steps per second and as ratios:
  1. optviz's engine: every start at once, every step recorded (positions and losses), split across the cores;
  2. torch.optim the tutorial way: one 2-element tensor per start (timed on a sample of starts, scaled);
  3. torch.optim on the whole grid as one (N, 2) tensor (nothing recorded: the hardest baseline).

    python benchmarks/engine.py            # 200x200 starts x 500 steps
    python benchmarks/engine.py --quick    # 50x50 x 100, a smoke test

Targets (issue 2): the engine >= 5000x faster per point-step than (2), and >= 1.5x faster than (3).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from optviz import engine
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS

LR = 0.01


def grid_of_starts(side: int) -> np.ndarray:
    (xmin, xmax), (ymin, ymax) = FUNCTIONS.get("rosenbrock").domain
    x, y = np.meshgrid(np.linspace(xmin, xmax, side), np.linspace(ymin, ymax, side))
    return np.column_stack([x.ravel(), y.ravel()])


def timed(work) -> float:
    t0 = time.perf_counter()
    work()
    return time.perf_counter() - t0


def engine_work(starts: np.ndarray, steps: int):
    adam = OPTIMIZERS.get("adam")
    transform = adam.build(adam.resolve({"lr": LR}))
    fn = FUNCTIONS.get("rosenbrock")
    return lambda: engine.run(fn, [transform], starts, steps)


def torch_rosenbrock(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def time_torch_per_start(torch, starts: np.ndarray, steps: int) -> float:
    def one_start(start):
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=LR)
        for _ in range(steps):
            opt.zero_grad()
            torch_rosenbrock(p).backward()
            opt.step()

    one_start(starts[0])  # warm-up: torch's first step pays one-off dispatch costs
    return timed(lambda: [one_start(start) for start in starts])


def torch_batched_work(torch, starts: np.ndarray, steps: int):
    def work():
        p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=LR)
        for _ in range(steps):
            opt.zero_grad()
            torch_rosenbrock(p).sum().backward()
            opt.step()

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--side", type=int, default=200, help="grid side (starts = side^2)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--sample", type=int, default=20, help="starts timed for the per-start torch loop")
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of the engine and batched torch")
    args = parser.parse_args()
    if args.quick:
        args.side, args.steps, args.sample, args.repeats = 50, 100, 3, 1

    import torch

    torch.set_default_dtype(torch.float64)
    starts = grid_of_starts(args.side)
    n = len(starts)
    sample = starts[np.linspace(0, n - 1, args.sample).astype(int)]

    # The engine and batched torch alternate, so a slow spell on the machine hits both; medians of each.
    ours_work, batched_work = engine_work(starts, args.steps), torch_batched_work(torch, starts, args.steps)
    engine_work(starts[:64], 5)()  # warm-ups: first calls pay one-off costs on both sides
    torch_batched_work(torch, starts[:64], 5)()
    ours_runs, batched_runs = [], []
    for _ in range(args.repeats):
        ours_runs.append(timed(ours_work) / (n * args.steps))
        batched_runs.append(timed(batched_work) / (n * args.steps))
    ours, batched = statistics.median(ours_runs), statistics.median(batched_runs)
    per_start = time_torch_per_start(torch, sample, args.steps) / (len(sample) * args.steps)
    ratios = [b / o for o, b in zip(ours_runs, batched_runs)]

    print(f"Adam on Rosenbrock, {n} starts x {args.steps} steps, float64, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")
    print(f"{'method':44s} {'ns/point-step':>14s} {'point-steps/s':>14s}")
    for name, seconds in [("optviz engine (all starts, every step recorded)", ours),
                          (f"torch.optim, one start at a time ({len(sample)} sampled)", per_start),
                          ("torch.optim, whole grid as one tensor", batched)]:
        print(f"{name:44s} {seconds * 1e9:14.1f} {1 / seconds:14.3g}")
    print(f"speed-up vs per-start torch.optim: {per_start / ours:8.0f}x   (target >= 5000x)")
    print(f"speed-up vs batched torch.optim:   {batched / ours:8.2f}x   (target >= 1.5x; per alternating "
          f"pair: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
