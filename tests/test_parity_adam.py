"""Adam, AdamW, Adamax, NAdam and RAdam step for step against real torch.optim (float64, CPU).

Every option alone and the combinations that interact (amsgrad with maximize and weight decay, coupled
and decoupled decay, betas on both sides of torch's lerp switch at 1 - β1 = 0.5, RAdam with and without
the rectified phase), on Rosenbrock, Beale and a quadratic from their default starts, for 200 steps,
within 1e-9 relative at every step.

Learning rates are chosen so that torch itself stays finite and the path is not chaotic: the two sides
differ by ~1e-16 per step (autograd vs analytic gradients, torch's fused multiply-adds and its float64
sqrt), and a chaotic stretch, such as Adam with β1 = 0.5 at lr 0.02 on Rosenbrock, blows that up.
"""

from __future__ import annotations

import numpy as np
import pytest

from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from tests.torch_reference import requires_torch, assert_paths_agree, optviz_path, torch, torch_path

ADAM_FAMILY = ("adam", "adamw", "adamax", "nadam", "radam")
PARITY_STEPS = 200

CASES = [
    ("adam", {}),
    ("adam", {"lr": 0.005, "betas": (0.5, 0.9)}),  # 1 - β1 = 0.5: torch's lerp takes its other branch
    ("adam", {"lr": 0.005, "betas": (0.0, 0.0), "eps": 1e-3}),  # sign-like steps (eps keeps them well-posed)
    ("adam", {"lr": 0.02, "eps": 0.0}),
    ("adam", {"lr": 0.02, "amsgrad": True}),
    ("adam", {"lr": 0.02, "weight_decay": 0.5}),
    ("adam", {"lr": 0.02, "weight_decay": 0.5, "decoupled_weight_decay": True}),
    ("adam", {"lr": 0.005, "maximize": True}),
    ("adam", {"lr": 0.005, "amsgrad": True, "maximize": True, "weight_decay": 0.3}),
    ("adam", {"lr": 0.02, "amsgrad": True, "weight_decay": 0.3, "decoupled_weight_decay": True,
              "betas": (0.8, 0.99), "eps": 1e-3}),
    ("adamw", {}),
    ("adamw", {"lr": 0.02, "weight_decay": 0.5, "amsgrad": True}),
    ("adamw", {"lr": 0.005, "maximize": True, "amsgrad": True, "betas": (0.7, 0.95), "eps": 1e-3}),
    ("adamax", {}),
    ("adamax", {"lr": 0.01, "betas": (0.5, 0.99)}),
    ("adamax", {"lr": 0.02, "eps": 0.1}),
    ("adamax", {"lr": 0.02, "weight_decay": 0.5}),
    ("adamax", {"lr": 0.005, "maximize": True, "weight_decay": 0.3}),
    ("nadam", {}),
    ("nadam", {"lr": 0.02, "momentum_decay": 0.0}),
    ("nadam", {"lr": 0.02, "momentum_decay": 0.1}),
    ("nadam", {"lr": 0.005, "betas": (0.5, 0.9), "eps": 1e-4}),
    ("nadam", {"lr": 0.02, "weight_decay": 0.5}),
    ("nadam", {"lr": 0.02, "weight_decay": 0.5, "decoupled_weight_decay": True}),
    ("nadam", {"lr": 0.005, "maximize": True, "weight_decay": 0.3, "momentum_decay": 0.01}),
    ("radam", {}),  # steps 1-5 unrectified, rectified from step 6 on
    ("radam", {"lr": 0.001, "betas": (0.9, 0.6)}),  # ρ∞ = 4: never rectified
    ("radam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-3}),
    ("radam", {"lr": 0.01, "weight_decay": 0.5}),
    ("radam", {"lr": 0.01, "weight_decay": 0.5, "decoupled_weight_decay": True}),
    ("radam", {"lr": 0.002, "maximize": True, "weight_decay": 0.3}),
]


def case_id(case) -> str:
    name, hyperparameters = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in hyperparameters.items()) + ")"


def test_cases_cover_every_option_of_every_optimizer():
    for name in ADAM_FAMILY:
        definition = OPTIMIZERS.get(name)
        used = {k for n, hyperparameters in CASES if n == name for k in hyperparameters}
        untested = set(definition.defaults()) - used
        assert not untested, f"{name}: options never tested {untested}"


# Every case on the two curved valleys; on the quadratic (to keep the suite fast) each optimiser's
# defaults and its maximize cases.
PARITY_RUNS = [(case, function) for case in CASES for function in ("rosenbrock", "beale")] + [
    (case, "quadratic") for case in CASES if not case[1] or case[1].get("maximize")
]


@requires_torch
@pytest.mark.parametrize(("case", "function"), PARITY_RUNS,
                         ids=[f"{case_id(case)}-{function}" for case, function in PARITY_RUNS])
def test_matches_torch_step_for_step(case, function):
    name, hyperparameters = case
    torch_class = getattr(torch.optim, OPTIMIZERS.get(name).torch_class)
    start = FUNCTIONS.get(function).default_start
    theirs = torch_path(torch_class, hyperparameters, function, start, PARITY_STEPS)
    ours = optviz_path(name, hyperparameters, function, start, PARITY_STEPS)
    assert_paths_agree(ours, theirs)


BATCH_STEPS = 20  # past RAdam's switch to the rectified step at step 6
STARTS = np.array([[-1.5, 2.0], [1.2, 1.2], [0.3, -0.2], [-0.5, -0.5], [0.8, 0.3]])


def run(transform, grad_at, params: np.ndarray, steps: int) -> np.ndarray:
    """Positions (steps + 1, B, 2)."""
    state = transform.init(params)
    path = [params]
    for _ in range(steps):
        params, state = transform.update(grad_at(params), state, params)
        path.append(params)
    return np.stack(path)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_batch_of_starts_moves_as_each_start_alone(case):
    name, hyperparameters = case
    definition = OPTIMIZERS.get(name)
    grad_at = FUNCTIONS.get("rosenbrock").gradient_at
    together = run(definition.build(definition.resolve(hyperparameters)), grad_at, STARTS, BATCH_STEPS)
    for row, start in enumerate(STARTS):
        alone = run(definition.build(definition.resolve(hyperparameters)), grad_at, start[None, :], BATCH_STEPS)
        np.testing.assert_array_equal(together[:, row], alone[:, 0])


LRS = np.array([[1e-4], [1e-3], [5e-3], [1e-2], [3e-2]])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_an_lr_column_moves_as_separate_scalar_lrs(case):
    name, hyperparameters = case
    definition = OPTIMIZERS.get(name)
    quadratic = FUNCTIONS.get("quadratic")  # every lr in LRS is stable on it, RAdam's plain-momentum phase too
    grad_at = quadratic.gradient_at
    starts = np.repeat([quadratic.default_start], len(LRS), axis=0)
    params = definition.resolve(hyperparameters)
    together = run(definition.build({**params, "lr": LRS}), grad_at, starts, BATCH_STEPS)
    for row, lr in enumerate(LRS[:, 0]):
        alone = run(definition.build({**params, "lr": float(lr)}), grad_at, starts[row:row + 1], BATCH_STEPS)
        np.testing.assert_array_equal(together[:, row], alone[:, 0])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_update_mutates_nothing(case):
    name, hyperparameters = case
    definition = OPTIMIZERS.get(name)
    transform = definition.build(definition.resolve(hyperparameters))
    grad_at = FUNCTIONS.get("beale").gradient_at
    params = STARTS.copy()
    state = transform.init(params)
    for _ in range(3):  # past the first step, where state is still all zeros
        grad = grad_at(params)
        snapshot = [np.copy(x) for x in (grad, params, *state)]
        new_params, new_state = transform.update(grad, state, params)
        for before, after in zip(snapshot, (grad, params, *state)):
            np.testing.assert_array_equal(before, after)
        params, state = new_params, new_state
