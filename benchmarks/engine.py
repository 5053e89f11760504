"""Engine benchmark: optviz's engine side by side with torch.optim and the baseline kit's numpy loop, as ratios.

Two scenes, each timed in one process with the contenders alternating (a slow spell on the machine hits all):

1. One start (the baseline kit's scene, ../shared/bench/common.py): Rosenbrock from (-1.5, 2), the kit's four
   optimisers (sgd, momentum, rmsprop, adam), every step recorded. Contenders: optviz's engine stepping the four
   in lockstep; optviz's engine with Adam alone; the kit's numpy loop (`trajectories_numpy`); torch.optim the
   tutorial way (`trajectories_torch`: one 2-element tensor per optimiser). Reported in µs per optimiser-step.
2. Many starts: Adam on Rosenbrock over a grid of starts, every step recorded. Contenders: optviz's engine (split
   across the cores); torch.optim on the whole grid as one (N, 2) tensor (nothing recorded: the hardest baseline).
   Reported in ns per point-step.

Both scenes also step Rosenbrock typed as a formula (`--fn "(1-x)**2 + 100*(y-x**2)**2"`, issue 6) beside the
built-in, and report expression time / built-in time (the target is a small factor, < 3).

    python benchmarks/engine.py            # 1 start x 3000 steps; 200x200 starts x 300 steps
    python benchmarks/engine.py --quick    # a smoke test

Targets (issue 8): one start at least 15x cheaper per optimiser-step than torch.optim; many starts no slower than
batched torch.optim (issue 2 asked >= 1.5x).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from optviz import engine
from optviz.expressions import parse_expression
from optviz.functions import FUNCTIONS
from optviz.functions.user import expression_function
from optviz.optimizers import OPTIMIZERS

KIT = Path(__file__).resolve().parents[1].parent / "shared" / "bench"
# the kit's optimiser labels -> optviz registry names (the kit gives the hyperparameters)
KIT_OPTIMISERS = {"SGD": "sgd", "Momentum": "sgd", "RMSprop": "rmsprop", "Adam": "adam"}
GRID_LR = 0.01
ROSENBROCK_TYPED = "(1-x)**2 + 100*(y-x**2)**2"
TARGET_ONE_START, TARGET_MANY_STARTS = 15.0, 1.0


def timed(work) -> float:
    t0 = time.perf_counter()
    work()
    return time.perf_counter() - t0


def build(name: str, **given):
    definition = OPTIMIZERS.get(name)
    return definition.build(definition.resolve(given))


def kit_transforms(common) -> list:
    return [build(KIT_OPTIMISERS[label], **params) for label, _, params, _ in common.OPTIMIZERS]


def one_start(common, steps: int, repeats: int, torch_steps: int) -> dict[str, float]:
    """µs per optimiser-step of each contender on the kit's scene (median of `repeats` alternating rounds)."""
    fn = FUNCTIONS.get("rosenbrock")
    typed = typed_rosenbrock()
    start = np.array([common.START])
    transforms = kit_transforms(common)
    n_opt = len(transforms)
    adam = build("adam", lr=0.05)
    contenders = {
        "optviz engine, 4 optimisers in lockstep": (lambda: engine.run(fn, transforms, start, steps), n_opt * steps),
        "optviz engine, adam alone": (lambda: engine.run(fn, [adam], start, steps), steps),
        "optviz engine, adam alone, typed formula": (lambda: engine.run(typed, [adam], start, steps), steps),
        "baseline kit numpy loop (4 optimisers)": (lambda: common.trajectories_numpy(steps), n_opt * steps),
        "torch.optim, one tensor per optimiser": (lambda: common.trajectories_torch(torch_steps), n_opt * torch_steps),
    }
    for work, _ in contenders.values():  # warm-ups: first calls pay one-off costs
        work()
    rounds = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, (work, optimiser_steps) in contenders.items():
            rounds[name].append(timed(work) / optimiser_steps * 1e6)
    return {name: statistics.median(values) for name, values in rounds.items()}


def typed_rosenbrock():
    return expression_function(parse_expression(ROSENBROCK_TYPED), domain=FUNCTIONS.get("rosenbrock").domain)


def grid_of_starts(side: int) -> np.ndarray:
    (xmin, xmax), (ymin, ymax) = FUNCTIONS.get("rosenbrock").domain
    x, y = np.meshgrid(np.linspace(xmin, xmax, side), np.linspace(ymin, ymax, side))
    return np.column_stack([x.ravel(), y.ravel()])


def many_starts(torch, side: int, steps: int, repeats: int) -> dict[str, float]:
    """ns per point-step of the engine and of batched torch.optim (median of alternating rounds)."""
    fn = FUNCTIONS.get("rosenbrock")
    starts = grid_of_starts(side)
    adam = build("adam", lr=GRID_LR)

    def batched_torch(points: np.ndarray, n_steps: int) -> None:
        p = torch.tensor(points, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=GRID_LR)
        for _ in range(n_steps):
            opt.zero_grad()
            x, y = p[:, 0], p[:, 1]
            ((1 - x) ** 2 + 100 * (y - x * x) ** 2).sum().backward()
            opt.step()

    typed = typed_rosenbrock()
    engine.run(fn, [adam], starts[:64], 5)
    engine.run(typed, [adam], starts[:64], 5)
    batched_torch(starts[:64], 5)
    ours, theirs, formula = [], [], []
    for _ in range(repeats):
        ours.append(timed(lambda: engine.run(fn, [adam], starts, steps)) / (len(starts) * steps) * 1e9)
        theirs.append(timed(lambda: batched_torch(starts, steps)) / (len(starts) * steps) * 1e9)
        formula.append(timed(lambda: engine.run(typed, [adam], starts, steps)) / (len(starts) * steps) * 1e9)
    return {f"optviz engine ({len(starts)} starts, every step recorded)": statistics.median(ours),
            "torch.optim, the whole grid as one tensor": statistics.median(theirs),
            "optviz engine, the same, typed formula": statistics.median(formula)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kit", type=Path, default=KIT, help=f"the baseline kit folder (default {KIT})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--steps", type=int, default=3000, help="steps from one start")
    parser.add_argument("--side", type=int, default=200, help="grid side (starts = side^2)")
    parser.add_argument("--grid-steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds (median)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.side, args.grid_steps, args.repeats = 300, 40, 50, 1
    sys.path.insert(0, str(args.kit))
    import common  # the baseline kit
    import torch

    torch.set_default_dtype(torch.float64)
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, float64")

    single = one_start(common, args.steps, args.repeats, torch_steps=min(args.steps, 1000))
    torch_us = single["torch.optim, one tensor per optimiser"]
    print(f"\n1. one start, the kit's scene (Rosenbrock from {common.START}), {args.steps} steps, every step recorded")
    print(f"{'contender':44s} {'µs/optimiser-step':>18s} {'torch / this':>13s}")
    for name, us in single.items():
        print(f"{name:44s} {us:18.2f} {torch_us / us:12.1f}x")
    lockstep = torch_us / single["optviz engine, 4 optimisers in lockstep"]
    alone = torch_us / single["optviz engine, adam alone"]
    kit = single["baseline kit numpy loop (4 optimisers)"] / single["optviz engine, 4 optimisers in lockstep"]
    print(f"vs torch.optim: {lockstep:.1f}x (lockstep), {alone:.1f}x (one optimiser)   (target >= "
          f"{TARGET_ONE_START:g}x); vs the kit's numpy loop: {kit:.2f}x")
    typed_ratio = single["optviz engine, adam alone, typed formula"] / single["optviz engine, adam alone"]
    print(f"typed formula / built-in: {typed_ratio:.2f}x")

    grid = many_starts(torch, args.side, args.grid_steps, args.repeats)
    ours, theirs, formula = grid.values()
    print(f"\n2. many starts: Adam on Rosenbrock, {args.side}x{args.side} starts x {args.grid_steps} steps")
    print(f"{'contender':52s} {'ns/point-step':>14s}")
    for name, ns in grid.items():
        print(f"{name:52s} {ns:14.1f}")
    print(f"vs batched torch.optim: {theirs / ours:.2f}x   (target >= {TARGET_MANY_STARTS:g}x); "
          f"typed formula / built-in: {formula / ours:.2f}x")


if __name__ == "__main__":
    main()
