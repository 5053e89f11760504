"""The seed article's experiment against real torch.optim: f(θ) = θ² from θ₀ = 3, lr 0.01, 1000 steps, for
GD, momentum, Nesterov, AdaGrad, RMSProp and Adam, every step, to 1e-12 relative.

optviz runs the race end to end (`optviz.api.race`, the expression parser and the engine); torch steps a tensor
of shape (1,) in float64 with torch's own defaults and the article's lr, so optviz's presets (momentum = sgd with
momentum 0.9, ...) are checked against what the article means, not against optviz's own resolution of them.
"""

from __future__ import annotations

import numpy as np
import pytest

from optviz import api
from tests.torch_reference import requires_torch, torch

START, LR, STEPS = 3.0, 0.01, 1000
RELATIVE = 1e-12

# optviz's name -> (torch.optim class name, keywords besides lr), in the article's order.
SEED = {
    "gd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
}


@pytest.fixture(scope="module")
def seed_race():
    return api.race("x**2", list(SEED), start=START, lr=LR, steps=STEPS)


def torch_theta(class_name: str, keywords: dict) -> np.ndarray:
    """θ at every step (STEPS + 1,) of torch.optim stepping θ² from START."""
    theta = torch.tensor([START], dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, class_name)([theta], lr=LR, **keywords)
    path = [START]
    for _ in range(STEPS):
        optimizer.zero_grad()
        (theta**2).sum().backward()
        optimizer.step()
        path.append(float(theta.detach()[0]))
    return np.array(path)


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """|ours − theirs| / |theirs| where theirs is not 0 (exact 0 on both sides counts as agreement)."""
    denominator = np.where(theirs == 0, 1.0, np.abs(theirs))
    return np.abs(ours - theirs) / denominator


def test_the_race_is_the_articles():
    race = api.race("x**2", list(SEED), start=START, lr=LR, steps=5)
    assert race.function.dimensions == 1
    assert [run.lr_source for run in race.runs] == ["user"] * len(SEED)
    assert all(run.params["lr"] == LR for run in race.runs)


@requires_torch
@pytest.mark.parametrize("name", list(SEED))
def test_every_step_matches_torch(seed_race, name):
    r = list(SEED).index(name)
    ours = seed_race.trajectories.positions[:, r, 0, 0]
    theirs = torch_theta(*SEED[name])
    assert np.all(np.isfinite(theirs))
    error = relative_error(ours, theirs)
    worst = int(error.argmax())
    assert error[worst] <= RELATIVE, (f"{name} leaves torch at step {worst}: optviz {ours[worst]!r} vs torch "
                                      f"{theirs[worst]!r} (relative error {error[worst]:.3g})")
    np.testing.assert_allclose(seed_race.trajectories.losses[:, r, 0], theirs**2, rtol=4 * RELATIVE, atol=0)


@requires_torch
def test_the_optimisers_really_differ(seed_race):
    """The experiment's point: after 1000 steps adagrad is still far from 0, the momentum methods are there."""
    final = dict(zip(SEED, seed_race.trajectories.positions[-1, :, 0, 0]))
    assert final["adagrad"] > 2.0
    assert max(abs(final["momentum"]), abs(final["nesterov"])) < 1e-15 < abs(final["gd"]) < 1e-6
