"""Native lbfgs against real torch.optim.LBFGS (float64), step for step, evaluation for evaluation.

torch steps each start on its own tensor with its own optimiser; its closure evaluates optviz's own numpy function
(so the two sides see bit-identical f and ∇f and any difference is the optimiser's). One optviz step is one
`step(closure)`; `Trajectories.evaluations` must equal torch's cumulative `state["func_evals"]` exactly.
"""

from __future__ import annotations

import importlib
import inspect
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optviz
from optviz.errors import UsageError
from optviz.optimizers import OPTIMIZERS
from optviz.optimizers.lbfgs import _fma
from optviz.racing import resolve_runs
from optviz.specs import format_call, parse_optimizer_list
from tests.torch_reference import requires_torch, torch

RELATIVE = 1e-12
lbfgs_module = importlib.import_module("optviz.optimizers.lbfgs")  # the package's `lbfgs` is the registry entry
STEPS = 40
EXPRESSION_1D = "x^4 - 3*x^2 + x"  # two minima and a maximum between them

# Several starts per function, so rows of one batch finish their inner loops at different iterations.
STARTS = {
    "rosenbrock": [(-1.5, 2.0), (0.3, -0.5), (1.9, 2.9)],
    "beale": [(1.0, 1.5), (-2.0, 2.0), (3.5, -0.5)],
    "himmelblau": [(0.0, 0.0), (-0.3, -0.9), (4.5, -4.0)],
    "rastrigin": [(2.3, -1.7), (0.4, 0.45), (-4.9, 3.1)],
    EXPRESSION_1D: [(-2.0,), (0.17,), (2.2,)],
}

# The registry entries this file checks against torch (each entry with a torch class is in one such table).
PARITY_TABLE = ("lbfgs",)

# Every non-default hyperparameter, alone and with the line search.
CASES = [
    {},
    {"line_search_fn": "strong_wolfe"},
    {"history_size": 2},
    {"history_size": 3, "line_search_fn": "strong_wolfe"},
    {"max_iter": 3},
    {"max_iter": 4, "max_eval": 3},
    {"max_eval": 4, "line_search_fn": "strong_wolfe"},
    {"max_iter": 1, "line_search_fn": "strong_wolfe"},
    {"tolerance_grad": 1e-2, "tolerance_change": 1e-3},
    {"tolerance_change": 1e-2, "line_search_fn": "strong_wolfe"},
    {"lr": 0.5},
    {"lr": 0.3, "line_search_fn": "strong_wolfe"},
]


@pytest.fixture
def torch_sqrt(monkeypatch):
    """torch's own square root inside the cubic interpolation: torch's CPU sqrt is not always correctly rounded
    (one ulp off for about 1% of arguments), the one rounding optviz does not mirror; with it swapped in, every
    path here is torch's bit for bit, so any difference is a real one."""
    monkeypatch.setattr(lbfgs_module, "_sqrt", lambda value: np.float64(torch.sqrt(torch.tensor(float(value)))))


def torch_lbfgs(function, starts, steps, hyperparameters, *, scheduler=None, clip_value=None):
    """Positions (steps + 1, B, d) and cumulative func_evals (steps + 1, B) of torch.optim.LBFGS from each start."""
    positions = np.empty((steps + 1, len(starts), function.dimensions))
    evaluations = np.zeros((steps + 1, len(starts)), dtype=np.int64)
    for b, start in enumerate(starts):
        x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS([x], **hyperparameters)
        schedule = scheduler(optimizer) if scheduler else None

        def closure():
            point = x.detach().numpy()[None].copy()
            with np.errstate(all="ignore"):  # a diverging row, as in the engine
                value, grad = function.value_at(point)[0], function.gradient_at(point)[0]
            x.grad = torch.from_numpy(np.array(grad))
            if clip_value is not None:
                torch.nn.utils.clip_grad_value_([x], clip_value)
            return torch.tensor(float(value))

        positions[0, b] = start
        for k in range(steps):
            optimizer.step(closure)
            if schedule:
                schedule.step()
            positions[k + 1, b] = x.detach().numpy()
            evaluations[k + 1, b] = optimizer.state[x]["func_evals"]
    return positions, evaluations


def ours(fn, starts, steps, spec, **options):
    race = optviz.race(fn, [spec], start=[list(s) for s in starts], steps=steps, tune=False, **options)
    return race, race.trajectories.positions[:, 0], race.trajectories.evaluations[:, 0]


def worst_relative(ours_, theirs):
    return float((np.abs(ours_ - theirs) / np.maximum(np.abs(theirs), 1.0)).max())


@requires_torch
@pytest.mark.parametrize("hyperparameters", CASES, ids=lambda h: format_call("lbfgs", h))
@pytest.mark.parametrize("name", list(STARTS))
def test_steps_and_evaluations_equal_torch(name, hyperparameters, torch_sqrt):
    race, positions, evaluations = ours(name, STARTS[name], STEPS, format_call("lbfgs", hyperparameters))
    theirs, their_evaluations = torch_lbfgs(race.function, STARTS[name], STEPS, hyperparameters)
    assert np.all(race.trajectories.diverged_step == -1)
    assert worst_relative(positions, theirs) <= RELATIVE
    np.testing.assert_array_equal(evaluations, their_evaluations)


@requires_torch
@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "rastrigin", EXPRESSION_1D])
def test_with_its_own_sqrt_the_line_search_stays_within_1e_12_of_torch(name):
    """Without torch's sqrt swapped in: an ulp in a trial step length stays an ulp on these paths. (On beale from
    (-2, 2), a run along the asymptote y -> 1 out to x ~ -1e5, it grows to a visible difference: that landscape
    amplifies any rounding, torch's own too.)"""
    hyperparameters = {"line_search_fn": "strong_wolfe"}
    race, positions, evaluations = ours(name, STARTS[name], STEPS, format_call("lbfgs", hyperparameters))
    theirs, their_evaluations = torch_lbfgs(race.function, STARTS[name], STEPS, hyperparameters)
    assert worst_relative(positions, theirs) <= RELATIVE
    np.testing.assert_array_equal(evaluations, their_evaluations)


@requires_torch
def test_the_default_race_is_bit_for_bit_torch_and_rows_finish_at_different_iterations():
    race, positions, evaluations = ours("rosenbrock", STARTS["rosenbrock"], STEPS, "lbfgs")
    theirs, their_evaluations = torch_lbfgs(race.function, STARTS["rosenbrock"], STEPS, {})
    np.testing.assert_array_equal(positions, theirs)
    np.testing.assert_array_equal(evaluations, their_evaluations)
    per_step = np.diff(evaluations, axis=0)
    assert (per_step.min(axis=1) != per_step.max(axis=1)).any()  # in one step, rows took different inner loops
    assert per_step.max() == 20 and per_step.min() == 1  # a full inner loop; a converged row's lone evaluation


@requires_torch
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_schedule_steps_as_torch_lr_scheduler(line_search, torch_sqrt):
    spec = format_call("lbfgs", {"lr": 0.8, "line_search_fn": line_search})
    race, positions, evaluations = ours("beale", STARTS["beale"], STEPS, spec, schedule="cosine(T_max=10, eta_min=0.1)")
    theirs, their_evaluations = torch_lbfgs(
        race.function, STARTS["beale"], STEPS, {"lr": 0.8, "line_search_fn": line_search},
        scheduler=lambda optimizer: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.1))
    assert worst_relative(positions, theirs) <= RELATIVE
    np.testing.assert_array_equal(evaluations, their_evaluations)


@requires_torch
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_clipping_clips_every_gradient_the_line_search_sees(line_search, torch_sqrt):
    """clip_grad_value_ inside torch's closure, so every evaluation's gradient is clipped: the oracle's too. (By
    value, which both sides compute exactly; clip_grad_norm_'s norm agrees with optviz's to 1e-14, see
    test_clipping.py, and L-BFGS would amplify that.)"""
    spec = format_call("lbfgs", {"line_search_fn": line_search})
    race, positions, evaluations = ours("rosenbrock", STARTS["rosenbrock"], STEPS, spec, clip_value=10.0)
    theirs, their_evaluations = torch_lbfgs(race.function, STARTS["rosenbrock"], STEPS,
                                            {"line_search_fn": line_search}, clip_value=10.0)
    assert np.all(race.trajectories.diverged_step == -1)
    assert worst_relative(positions, theirs) <= RELATIVE
    np.testing.assert_array_equal(evaluations, their_evaluations)


@requires_torch
def test_a_diverging_row_is_frozen_where_torch_leaves_the_box_and_the_others_go_on(torch_sqrt):
    """On the saddle x² - y² (unbounded below) the row off the x axis runs away along y; the one on it does not."""
    starts = [(-1.0, 1e-3), (0.7, 0.0)]
    race, positions, evaluations = ours("saddle", starts, 30, "lbfgs(lr=0.5)")
    theirs, their_evaluations = torch_lbfgs(race.function, starts, 30, {"lr": 0.5})
    diverged = race.trajectories.diverged_step[0]
    assert diverged[0] > 0 and diverged[1] == -1
    k = diverged[0]
    assert worst_relative(positions[:k, 0], theirs[:k, 0]) <= RELATIVE
    np.testing.assert_array_equal(evaluations[:k, 0], their_evaluations[:k, 0])
    outside = ~(np.abs(theirs[k, 0]) <= optviz.engine.divergence_box(race.function)[1])
    assert outside.any() and np.all(positions[k:, 0] == positions[k - 1, 0])  # frozen at its last good point
    assert worst_relative(positions[:, 1], theirs[:, 1]) <= RELATIVE
    np.testing.assert_array_equal(evaluations[:, 1], their_evaluations[:, 1])


@requires_torch
@pytest.mark.parametrize("hyperparameters", [{}, {"line_search_fn": "strong_wolfe", "history_size": 5}])
def test_native_lbfgs_equals_torch_lbfgs_through_the_plugin(hyperparameters):
    torch_spec = format_call("torch.optim.LBFGS", hyperparameters)
    race = optviz.race("himmelblau", [format_call("lbfgs", hyperparameters), torch_spec],
                       start=[list(s) for s in STARTS["himmelblau"]], steps=STEPS, tune=False)
    np.testing.assert_array_equal(race.trajectories.positions[:, 0], race.trajectories.positions[:, 1])
    np.testing.assert_array_equal(race.trajectories.evaluations[:, 0], race.trajectories.evaluations[:, 1])


def test_a_1500_step_race_stays_fast():
    began = time.perf_counter()
    race = optviz.race("rosenbrock", ["lbfgs", "lbfgs(line_search_fn='strong_wolfe')"],
                       start=[list(s) for s in STARTS["rosenbrock"]], steps=1500)
    assert time.perf_counter() - began < 30
    assert race.trajectories.evaluations[-1].min() > 1500  # inner loops: more evaluations than steps


# --------------------------------------------------------------------------- the fused multiply-add


@given(st.floats(-1e150, 1e150), st.floats(-1e150, 1e150), st.floats(-1e300, 1e300))
def test_fma_is_rounded_once(a, b, c):
    from fractions import Fraction

    exact = Fraction(a) * Fraction(b) + Fraction(c)
    try:
        expected = float(exact)
    except OverflowError:
        return
    if expected != 0 and abs(expected) < 2.0**-960:  # Dekker's product is exact only above the subnormal range
        return
    assert _fma(a, b, c) == expected


@requires_torch
def test_fma_is_how_torch_adds_with_alpha():
    """torch's CPU kernel rounds x.add(d, alpha=t) once; a plain x + t * d would differ in about one entry in four."""
    rng = np.random.default_rng(4)
    x, d = rng.normal(size=(2, 500)) * 10.0 ** rng.uniform(-6, 6, size=(2, 500))
    for alpha in (rng.normal(size=20) * 10.0 ** rng.uniform(-6, 6, size=20)).tolist():
        theirs = torch.from_numpy(x).add(torch.from_numpy(d), alpha=alpha).numpy()
        assert [_fma(alpha, v, u) for u, v in zip(x.tolist(), d.tolist())] == theirs.tolist()


# --------------------------------------------------------------------------- hyperparameters


@requires_torch
def test_hyperparameters_and_defaults_are_torchs():
    signature = inspect.signature(torch.optim.LBFGS.__init__).parameters
    defaults = OPTIMIZERS.get("lbfgs").defaults()
    assert defaults == {name: p.default for name, p in signature.items() if name not in ("self", "params")}
    assert OPTIMIZERS.get("lbfgs").torch_class == "LBFGS" and not OPTIMIZERS.get("lbfgs").tune_lr


def _resolve(text: str) -> dict:
    (run,) = resolve_runs(parse_optimizer_list([text]))
    return run.params


def test_the_spec_grammar_reaches_every_kind():
    params = _resolve("lbfgs(history_size=10, max_eval=none, max_iter=5.0, line_search_fn='strong_wolfe')")
    assert params["history_size"] == 10 and params["max_eval"] is None and params["line_search_fn"] == "strong_wolfe"
    assert params["max_iter"] == 5 and isinstance(params["max_iter"], int)
    assert _resolve('lbfgs(max_eval=7, line_search_fn="strong_wolfe")')["max_eval"] == 7


@pytest.mark.parametrize(("text", "message"), [
    ("lbfgs(max_iter=0)", "lbfgs: max_iter must be in [1, 1000] (got 0)"),
    ("lbfgs(max_iter=1000000000, lr=1e-9)", "lbfgs: max_iter must be in [1, 1000] (got 1000000000)"),
    ("lbfgs(max_eval=1e18)", "lbfgs: max_eval must be in [1, 1250] (got 1e+18)"),
    ("lbfgs(max_iter=2.5)", "lbfgs: max_iter must be an integer (got 2.5)"),
    ("lbfgs(max_iter=true)", "lbfgs: max_iter must be an integer (got True)"),
    ("lbfgs(max_iter=none)", "lbfgs: max_iter must be an integer (got None)"),
    ("lbfgs(history_size=0)", "lbfgs: history_size must be >= 1 (got 0)"),
    ("lbfgs(max_eval=0)", "lbfgs: max_eval must be in [1, 1250] (got 0)"),
    ("lbfgs(max_eval='many')", "lbfgs: max_eval must be an integer or none (got 'many')"),
    ("lbfgs(line_search_fn='wolfe')", "lbfgs: line_search_fn must be none or one of strong_wolfe (got 'wolfe')"),
    ("lbfgs(line_search_fn=1)", "lbfgs: line_search_fn must be none or one of strong_wolfe (got 1)"),
    ("lbfgs(tolerance_grad=-1)", "lbfgs: tolerance_grad must be >= 0 (got -1)"),
    ("newton(damping=-0.1)", "newton: damping must be >= 0 (got -0.1)"),
])
def test_bad_values_are_one_line_usage_errors_naming_parameter_value_and_range(text, message):
    with pytest.raises(UsageError) as caught:
        _resolve(text)
    assert str(caught.value).endswith(f"{text}': {message}") or str(caught.value).endswith(f'{text}": {message}')


def test_a_bare_word_is_refused_with_a_hint_to_quote_it():
    with pytest.raises(UsageError, match="quote a word: 'strong_wolfe'"):
        _resolve("lbfgs(line_search_fn=strong_wolfe)")


_KEYS = ["lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size", "line_search_fn"]
_VALUES = st.one_of(st.integers(-3, 200), st.floats(-10, 1e3, allow_nan=False), st.booleans(), st.none(),
                    st.sampled_from(["strong_wolfe", "Strong_Wolfe", "", "x"]),
                    st.tuples(st.integers(-2, 2), st.integers(-2, 2)))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=4))
def test_any_keywords_give_typed_values_or_one_line_usage_error(kwargs):
    try:
        params = _resolve(format_call("lbfgs", kwargs))
    except UsageError as error:
        assert len(str(error).splitlines()) == 1 and "lbfgs" in str(error)
        return
    for key in ("max_iter", "history_size"):
        assert type(params[key]) is int and params[key] >= 1
    assert params["max_eval"] is None or (type(params["max_eval"]) is int and params["max_eval"] >= 1)
    assert params["line_search_fn"] in (None, "strong_wolfe")
    assert all(type(params[key]) is float and params[key] >= 0 for key in ("lr", "tolerance_grad",
                                                                        "tolerance_change"))
    race = optviz.race("beale", [format_call("lbfgs", kwargs)], steps=2, tune=False)
    assert race.trajectories.positions.shape == (3, 1, 1, 2)


@requires_torch
@pytest.mark.parametrize("start", [(-1.5, 2.0), (0.5, -0.5)])
@pytest.mark.parametrize("spec, keywords", [
    ("lbfgs", {}), ("lbfgs(line_search_fn='strong_wolfe')", {"line_search_fn": "strong_wolfe"}),
    ("lbfgs(lr=0.1)", {"lr": 0.1}), ("lbfgs(history_size=3, max_iter=5)", {"history_size": 3, "max_iter": 5}),
])
def test_rosenbrock_follows_torch_with_autograd_bit_for_bit(start, spec, keywords):
    """torch differentiating its own (1 - x)**2 + 100*(y - x**2)**2: the built-in's gradient has the same bits
    as autograd's, so even L-BFGS, which amplifies last-bit differences, takes the very same path."""
    p = torch.tensor(start, requires_grad=True)
    opt = torch.optim.LBFGS([p], **keywords)

    def closure():
        opt.zero_grad()
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        return loss

    theirs = [p.detach().numpy().copy()]
    for _ in range(40):
        opt.step(closure)
        theirs.append(p.detach().numpy().copy())
    race = optviz.race("rosenbrock", [spec], start=start, steps=40, tune=False)
    np.testing.assert_array_equal(race.trajectories.positions[:, 0, 0], np.array(theirs))
    assert int(race.trajectories.evaluations[-1, 0, 0]) == opt.state[p]["func_evals"]


@requires_torch
def test_a_line_search_that_meets_nan_diverges_where_torch_itself_fails():
    """On the saddle x² − y² strong Wolfe steps far enough that f is inf − inf = nan; torch 2.13's _strong_wolfe
    then indexes past its one-point bracket (IndexError). Natively and through the torch plugin, the run is
    flagged as diverged, at the same step, and nothing is raised."""
    race = optviz.race("saddle", ["lbfgs(line_search_fn='strong_wolfe')",
                                  "torch.optim.LBFGS(line_search_fn='strong_wolfe')"], steps=20)
    assert [run.lr_source for run in race.runs] == ["default", "default"]  # closure optimisers are not tuned
    native, plugin = race.stats["runs"]
    assert native["diverged"] and plugin["diverged"]
    assert native["diverged_step"] == plugin["diverged_step"]
