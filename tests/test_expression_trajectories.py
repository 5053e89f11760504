"""A built-in written out as an expression races exactly like the built-in: every optimiser in the registry, every
step, to 1e-12 relative (absolute below 1), on rosenbrock, beale and rastrigin.

Both races go through `optviz.api.race` with the same start, domain (so the same divergence box) and lr; only the
function differs: the hand-written numpy code against the parsed formula and its derived gradient.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from optviz import api
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from tests.test_expressions import WRITTEN_OUT

STEPS = 500
LR = 1e-3  # stable for every optimiser on all three from their default starts, so the paths are long and apart
RELATIVE = 1e-12
# L-BFGS's curvature pairs y = ∇f_new - ∇f_old are differences of nearly equal gradients, so the expression's
# gradients (equal to the built-in's to an ulp or so, not bit for bit) give ulp-level y that the inverse-Hessian
# estimate amplifies as the path nears the minimum: the paths agree to 1e-12 for this many steps, then drift apart.
AGREEING_STEPS = {"lbfgs": 50}


@functools.cache
def races(name: str):
    builtin = FUNCTIONS.get(name)
    names = OPTIMIZERS.names()
    ours = api.race(name, names, steps=STEPS, lr=LR)
    written = api.race(WRITTEN_OUT[name], names, start=builtin.default_start, steps=STEPS, lr=LR,
                       domain=builtin.domain)
    return ours, written


def test_the_functions_are_the_written_out_ones():
    assert sorted(WRITTEN_OUT) == ["beale", "rastrigin", "rosenbrock"]


@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
@pytest.mark.parametrize("name", sorted(WRITTEN_OUT))
def test_written_out_builtin_steps_like_the_builtin(name, optimizer):
    builtin, written = races(name)
    r = OPTIMIZERS.names().index(optimizer)
    theirs = builtin.trajectories.positions[:, r]
    ours = written.trajectories.positions[:, r]
    assert written.function.dimensions == 2 and written.function.name != name
    assert not np.allclose(theirs[-1], theirs[0])  # the path went somewhere: equal paths mean something
    np.testing.assert_array_equal(written.trajectories.diverged_step[r], builtin.trajectories.diverged_step[r])
    error = (np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1.0))[:AGREEING_STEPS.get(optimizer)]
    step = int(np.unravel_index(error.argmax(), error.shape)[0])
    assert error.max() <= RELATIVE, f"{optimizer} on {name} leaves the built-in at step {step} ({error.max():.3g})"
