"""SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta and Lion against torch, step for step.

Every case runs 200 steps on Rosenbrock and on Beale, and each position must agree with real
torch.optim to 1e-9 relative (tests/torch_reference.py). Lion is not in torch.optim: it is checked
against a small torch implementation written here from the paper's pseudo-code.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from tests.torch_reference import requires_torch, assert_paths_agree, optviz_path, torch, torch_path

STEPS = 200
STARTS = {"rosenbrock": (-1.5, 2.0), "beale": (1.0, 1.5)}


@functools.cache
def torch_lion():
    """The reference Lion as a torch.optim.Optimizer (defined on first use, so this module imports without torch)."""

    class TorchLion(torch.optim.Optimizer):
        """Lion as Algorithm 2 of Chen et al. 2023 (arXiv:2302.06675), in torch ops:

            c = β1 m + (1 - β1) g;  θ <- θ - lr (sign(c) + λ θ);  m <- β2 m + (1 - β2) g
        """

        def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
            super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize))

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    g = -p.grad if group["maximize"] else p.grad
                    m = self.state[p].setdefault("m", torch.zeros_like(p))
                    c = beta1 * m + (1 - beta1) * g
                    p.sub_(group["lr"] * (torch.sign(c) + group["weight_decay"] * p))
                    m.copy_(beta2 * m + (1 - beta2) * g)

    return TorchLion


def torch_class(name: str):
    definition = OPTIMIZERS.get(name)
    return torch_lion() if definition.torch_class is None else getattr(torch.optim, definition.torch_class)


# (optimizer, hyperparameters): each option alone, then combinations. Learning rates are chosen so that
# torch stays finite (maximizing ascends quartics, so those runs take small steps) and so that no path
# lingers at a minimum, where analytic and autograd gradients differ relatively most and chaotic
# amplification of those last-bit differences, not the optimiser, would decide the outcome.
CASES = [
    ("sgd", {}),
    ("sgd", {"lr": 2e-4, "momentum": 0.9}),
    ("sgd", {"lr": 2e-4, "momentum": 0.9, "dampening": 0.5}),
    ("sgd", {"lr": 2e-4, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"weight_decay": 0.5}),
    ("sgd", {"lr": 1e-6, "maximize": True}),
    ("sgd", {"lr": 2e-4, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.2}),
    ("sgd", {"lr": 1e-6, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("momentum", {"lr": 2e-4}),
    ("nesterov", {"lr": 2e-4, "weight_decay": 0.1}),
    ("adagrad", {}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad", {"initial_accumulator_value": 0.5}),
    ("adagrad", {"weight_decay": 0.5}),
    ("adagrad", {"lr": 0.05, "eps": 1e-2}),
    ("adagrad", {"maximize": True}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-6}),
    ("rmsprop", {}),
    ("rmsprop", {"lr": 1e-3, "alpha": 0.3}),
    ("rmsprop", {"eps": 1e-2}),
    ("rmsprop", {"weight_decay": 0.5}),
    ("rmsprop", {"lr": 1e-3, "momentum": 0.9}),
    ("rmsprop", {"lr": 1e-3, "centered": True}),
    ("rmsprop", {"lr": 1e-3, "maximize": True}),
    ("rmsprop", {"lr": 1e-3, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("rmsprop", {"lr": 1e-3, "alpha": 0.95, "eps": 1e-4, "momentum": 0.8, "centered": True, "maximize": True}),
    ("adadelta", {}),
    ("adadelta", {"lr": 0.1}),
    ("adadelta", {"rho": 0.5}),
    ("adadelta", {"lr": 0.2, "eps": 1e-3}),
    ("adadelta", {"weight_decay": 0.5}),
    ("adadelta", {"lr": 0.01, "maximize": True}),
    ("adadelta", {"lr": 0.01, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}),
    ("lion", {}),
    ("lion", {"lr": 1e-3, "betas": (0.5, 0.9)}),
    ("lion", {"lr": 1e-3, "weight_decay": 0.5}),
    ("lion", {"lr": 1e-3, "maximize": True}),
    ("lion", {"lr": 3e-3, "betas": (0.95, 0.98), "weight_decay": 0.1, "maximize": True}),
]

OURS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "lion"]


def test_cases_cover_every_option_of_every_optimizer():
    for name in OURS:
        options = {h.name for h in OPTIMIZERS.get(name).hyperparameters}
        if name in ("momentum", "nesterov"):
            continue  # presets of sgd, whose options are all covered under "sgd"
        covered = {key for case_name, hp in CASES if case_name == name for key in hp}
        assert covered == options, name
    assert {name for name, _ in CASES} == set(OURS)


@requires_torch
@pytest.mark.parametrize("function", list(STARTS))
@pytest.mark.parametrize(("name", "hyperparameters"), CASES, ids=[f"{n}{h}" for n, h in CASES])
def test_matches_torch_every_step(name, hyperparameters, function):
    definition = OPTIMIZERS.get(name)
    theirs = torch_path(torch_class(name), definition.resolve(hyperparameters), function, STARTS[function], STEPS)
    ours = optviz_path(name, hyperparameters, function, STARTS[function], STEPS)
    assert_paths_agree(ours, theirs)
    assert not np.allclose(theirs[-1], theirs[0]), "the case must actually move"


# --- batching: one call over a batch equals separate calls ---

BATCH_STARTS = np.array([[-1.5, 2.0], [1.0, 1.5], [0.5, -0.5], [-1.0, 1.0], [1.2, 1.0]])


def run(name: str, hyperparameters: dict, starts: np.ndarray, function: str = "rosenbrock", steps: int = 50):
    definition = OPTIMIZERS.get(name)
    transform = definition.build({**definition.defaults(), **hyperparameters})
    gradient_at = FUNCTIONS.get(function).gradient_at
    params = np.array(starts, dtype=np.float64)
    state = transform.init(params)
    for _ in range(steps):
        params, state = transform.update(gradient_at(params), state, params)
    return params


BATCH_CASES = [(name, hp) for name, hp in CASES if "maximize" not in hp]


@pytest.mark.parametrize(("name", "hyperparameters"), BATCH_CASES, ids=[f"{n}{h}" for n, h in BATCH_CASES])
def test_a_batch_of_starts_equals_each_start_alone(name, hyperparameters):
    together = run(name, hyperparameters, BATCH_STARTS)
    alone = np.concatenate([run(name, hyperparameters, start[None]) for start in BATCH_STARTS])
    assert np.all(np.isfinite(together))
    np.testing.assert_array_equal(together, alone)


# (optimizer, fixed hyperparameters, the float hyperparameter given as a (B, 1) array, its values)
ARRAY_CASES = [
    ("sgd", {}, "lr", [1e-4, 5e-4, 1e-3]),
    ("sgd", {"momentum": 0.9}, "lr", [1e-4, 2e-4, 3e-4]),
    ("sgd", {"lr": 2e-4, "dampening": 0.5}, "momentum", [0.0, 0.5, 0.9]),
    ("sgd", {"lr": 2e-4, "momentum": 0.9}, "dampening", [0.0, 0.3, 0.9]),
    ("sgd", {"lr": 5e-4}, "weight_decay", [0.0, 0.1, 1.0]),
    ("adagrad", {"lr_decay": 0.1}, "lr", [1e-2, 5e-2, 1e-1]),
    ("adagrad", {"lr": 0.1}, "lr_decay", [0.0, 0.01, 0.1]),
    ("adagrad", {}, "initial_accumulator_value", [0.0, 0.1, 1.0]),
    ("adagrad", {}, "eps", [1e-10, 1e-4, 1e-2]),
    ("rmsprop", {"centered": True, "momentum": 0.5}, "lr", [1e-4, 1e-3, 1e-2]),
    ("rmsprop", {"lr": 1e-3, "centered": True}, "alpha", [0.5, 0.9, 0.99]),
    ("rmsprop", {"lr": 1e-3}, "momentum", [0.0, 0.5, 0.9]),
    ("rmsprop", {"lr": 1e-3}, "eps", [1e-8, 1e-4, 1e-2]),
    ("adadelta", {"weight_decay": 0.1}, "lr", [0.1, 0.5, 1.0]),
    ("adadelta", {}, "rho", [0.5, 0.9, 0.99]),
    ("lion", {"weight_decay": 0.1}, "lr", [1e-4, 1e-3, 1e-2]),
    ("lion", {"lr": 1e-3}, "weight_decay", [0.0, 0.1, 1.0]),
]


@pytest.mark.parametrize(("name", "fixed", "varied", "values"), ARRAY_CASES,
                         ids=[f"{n}-{v}" for n, _, v, _ in ARRAY_CASES])
def test_a_hyperparameter_array_equals_separate_scalar_runs(name, fixed, varied, values):
    starts = BATCH_STARTS[: len(values)]
    together = run(name, {**fixed, varied: np.array(values)[:, None]}, starts)
    alone = np.concatenate([run(name, {**fixed, varied: value}, start[None]) for value, start in zip(values, starts)])
    assert np.all(np.isfinite(together))
    np.testing.assert_array_equal(together, alone)


@pytest.mark.parametrize("name", OURS)
def test_update_leaves_its_inputs_untouched(name):
    definition = OPTIMIZERS.get(name)
    transform = definition.build(definition.defaults())
    params = BATCH_STARTS.copy()
    grad = FUNCTIONS.get("beale").gradient_at(params)
    state = transform.init(params)
    for _ in range(2):  # the second step reads the state the first one wrote
        before = [np.copy(x) for x in (grad, params, *state)]
        new_params, new_state = transform.update(grad, state, params)
        for old, now in zip(before, (grad, params, *state)):
            np.testing.assert_array_equal(old, now)
        params, state = new_params, new_state
        grad = FUNCTIONS.get("beale").gradient_at(params)
