"""Engine benchmark: Adam on Rosenbrock over a grid of starts, optviz's engine against torch.optim.

Three ways to take the same steps, in one process, reported as point-steps per second and as ratios:
  1. optviz's engine: every start at once, every step recorded (positions and losses);
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


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_engine(starts: np.ndarray, steps: int, repeats: int) -> float:
    adam = OPTIMIZERS.get("adam")
    transform = adam.build(adam.resolve({"lr": LR}))
    fn = FUNCTIONS.get("rosenbrock")
    return best_of(repeats, lambda: engine.run(fn, [transform], starts, steps))


def torch_rosenbrock(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def time_torch_per_start(torch, starts: np.ndarray, steps: int) -> float:
    t0 = time.perf_counter()
    for start in starts:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=LR)
        for _ in range(steps):
            opt.zero_grad()
            torch_rosenbrock(p).backward()
            opt.step()
    return time.perf_counter() - t0


def time_torch_batched(torch, starts: np.ndarray, steps: int, repeats: int) -> float:
    def work():
        p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=LR)
        for _ in range(steps):
            opt.zero_grad()
            torch_rosenbrock(p).sum().backward()
            opt.step()

    return best_of(repeats, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--side", type=int, default=200, help="grid side (starts = side^2)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--sample", type=int, default=20, help="starts timed for the per-start torch loop")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.side, args.steps, args.sample, args.repeats = 50, 100, 3, 1

    import torch

    torch.set_default_dtype(torch.float64)
    starts = grid_of_starts(args.side)
    n = len(starts)
    sample = starts[np.linspace(0, n - 1, args.sample).astype(int)]

    ours = time_engine(starts, args.steps, args.repeats) / (n * args.steps)
    per_start = time_torch_per_start(torch, sample, args.steps) / (len(sample) * args.steps)
    batched = time_torch_batched(torch, starts, args.steps, args.repeats) / (n * args.steps)

    print(f"Adam on Rosenbrock, {n} starts x {args.steps} steps, float64, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")
    print(f"{'method':44s} {'ns/point-step':>14s} {'point-steps/s':>14s}")
    for name, seconds in [("optviz engine (all starts, every step recorded)", ours),
                          (f"torch.optim, one start at a time ({len(sample)} sampled)", per_start),
                          ("torch.optim, whole grid as one tensor", batched)]:
        print(f"{name:44s} {seconds * 1e9:14.1f} {1 / seconds:14.3g}")
    print(f"speed-up vs per-start torch.optim: {per_start / ours:8.0f}x   (target >= 5000x)")
    print(f"speed-up vs batched torch.optim:   {batched / ours:8.2f}x   (target >= 1.5x)")


if __name__ == "__main__":
    main()
