"""Learning-rate schedules: sequences against real torch.optim.lr_scheduler, end-to-end races, refusals, parsing.

Torch-only tests call `pytest.importorskip("torch")` themselves; the rest run without torch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optviz.errors import UsageError
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.schedules import SCHEDULES, Schedule, parse_schedule, resolve_schedule
from tests.torch_reference import assert_paths_agree

STEPS = 300
RTOL = 1e-13


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    return torch


def _sequential_warmup_cosine(warmup_steps, T_max, start_factor=1 / 3, eta_min=0.0):
    def build(opt):
        s = _torch().optim.lr_scheduler
        return s.SequentialLR(opt, [s.LinearLR(opt, start_factor, 1.0, total_iters=warmup_steps),
                                    s.CosineAnnealingLR(opt, T_max, eta_min)], milestones=[warmup_steps])

    return build


def _cls(name, **kwargs):
    return lambda opt: getattr(_torch().optim.lr_scheduler, name)(opt, **kwargs)


# schedule -> [(spec kwargs, torch scheduler factory, torch optimiser, its kwargs)]; the optimiser matters
# for the cycled momentum (SGD: group["momentum"], Adam: group["betas"][0]).
SGD = ("SGD", "sgd", {"lr": 0.1, "momentum": 0.9})
ADAM = ("Adam", "adam", {"lr": 0.01, "betas": (0.9, 0.99)})
RMSPROP = ("RMSprop", "rmsprop", {"lr": 0.01, "momentum": 0.5})
CASES = {
    "step": [({"step_size": 30}, _cls("StepLR", step_size=30), *SGD),
             ({"step_size": 7, "gamma": 0.5}, _cls("StepLR", step_size=7, gamma=0.5), *ADAM),
             ({"step_size": 1, "gamma": 0.97}, _cls("StepLR", step_size=1, gamma=0.97), *SGD)],
    "multistep": [({"milestones": (50, 120, 250)}, _cls("MultiStepLR", milestones=[50, 120, 250]), *SGD),
                  ({"milestones": (0, 1, 299), "gamma": 0.3}, _cls("MultiStepLR", milestones=[0, 1, 299], gamma=0.3),
                   *ADAM),
                  ({"milestones": 100}, _cls("MultiStepLR", milestones=[100]), *SGD)],
    "exponential": [({"gamma": 0.99}, _cls("ExponentialLR", gamma=0.99), *SGD),
                    ({"gamma": 1.003}, _cls("ExponentialLR", gamma=1.003), *ADAM)],
    "cosine": [({"T_max": 300}, _cls("CosineAnnealingLR", T_max=300), *SGD),
               ({"T_max": 70, "eta_min": 1e-4}, _cls("CosineAnnealingLR", T_max=70, eta_min=1e-4), *ADAM),
               ({"T_max": 1}, _cls("CosineAnnealingLR", T_max=1), *SGD),
               ({"T_max": 13, "eta_min": 0.02}, _cls("CosineAnnealingLR", T_max=13, eta_min=0.02), *SGD)],
    "linear": [({}, _cls("LinearLR"), *SGD),
               ({"start_factor": 0.01, "end_factor": 0.2, "total_iters": 200},
                _cls("LinearLR", start_factor=0.01, end_factor=0.2, total_iters=200), *ADAM),
               ({"start_factor": 1.0, "end_factor": 0.0, "total_iters": 299},
                _cls("LinearLR", start_factor=1.0, end_factor=0.0, total_iters=299), *SGD),
               ({"total_iters": 0}, _cls("LinearLR", total_iters=0), *SGD)],
    "constant": [({}, _cls("ConstantLR"), *SGD),
                 ({"factor": 0.1, "total_iters": 123}, _cls("ConstantLR", factor=0.1, total_iters=123), *ADAM),
                 ({"factor": 0.5, "total_iters": 0}, _cls("ConstantLR", factor=0.5, total_iters=0), *SGD)],
    "polynomial": [({}, _cls("PolynomialLR"), *SGD),
                   ({"total_iters": 250, "power": 2.5}, _cls("PolynomialLR", total_iters=250, power=2.5), *ADAM),
                   ({"total_iters": 300, "power": 0.5}, _cls("PolynomialLR", total_iters=300, power=0.5), *SGD)],
    "onecycle": [({"max_lr": 0.1}, _cls("OneCycleLR", max_lr=0.1, total_steps=STEPS), *SGD),
                 ({"max_lr": 0.05}, _cls("OneCycleLR", max_lr=0.05, total_steps=STEPS), *ADAM),
                 ({"max_lr": 0.05}, _cls("OneCycleLR", max_lr=0.05, total_steps=STEPS), *RMSPROP),
                 ({"max_lr": 0.2, "total_steps": 400, "pct_start": 0.25, "three_phase": True},
                  _cls("OneCycleLR", max_lr=0.2, total_steps=400, pct_start=0.25, three_phase=True), *ADAM),
                 ({"max_lr": 0.3, "anneal_strategy": "linear", "base_momentum": 0.8, "max_momentum": 0.9,
                   "div_factor": 10.0, "final_div_factor": 100.0},
                  _cls("OneCycleLR", max_lr=0.3, total_steps=STEPS, anneal_strategy="linear", base_momentum=0.8,
                       max_momentum=0.9, div_factor=10.0, final_div_factor=100.0), *SGD),
                 ({"max_lr": 0.3, "anneal_strategy": "linear", "three_phase": True, "pct_start": 0.4},
                  _cls("OneCycleLR", max_lr=0.3, total_steps=STEPS, anneal_strategy="linear", three_phase=True,
                       pct_start=0.4), *SGD),
                 ({"max_lr": 0.1, "cycle_momentum": False, "pct_start": 0.0},
                  _cls("OneCycleLR", max_lr=0.1, total_steps=STEPS, cycle_momentum=False, pct_start=0.0), *ADAM)],
    "cosine_restarts": [({"T_0": 50}, _cls("CosineAnnealingWarmRestarts", T_0=50), *SGD),
                        ({"T_0": 10, "T_mult": 2, "eta_min": 1e-3},
                         _cls("CosineAnnealingWarmRestarts", T_0=10, T_mult=2, eta_min=1e-3), *ADAM),
                        ({"T_0": 1}, _cls("CosineAnnealingWarmRestarts", T_0=1), *SGD)],
    "warmup_cosine": [({"warmup_steps": 20, "T_max": 280}, _sequential_warmup_cosine(20, 280), *SGD),
                      ({"warmup_steps": 50, "T_max": 100, "start_factor": 0.01, "eta_min": 1e-4},
                       _sequential_warmup_cosine(50, 100, 0.01, 1e-4), *ADAM),
                      ({"warmup_steps": 0, "T_max": 40}, _sequential_warmup_cosine(0, 40), *SGD),
                      ({"warmup_steps": 1, "T_max": 299, "start_factor": 0.5},
                       _sequential_warmup_cosine(1, 299, 0.5), *SGD)],
}
PARITY = [(name, *case) for name, cases in CASES.items() for case in cases]


def test_every_schedule_has_parity_cases():
    assert set(CASES) == set(SCHEDULES.names())


def torch_group_values(build, optimizer_class: str, optimizer_kwargs: dict, steps: int) -> dict[str, list]:
    """lr, momentum and betas in the torch group at each optimizer.step(), scheduler stepped after each."""
    torch = _torch()
    p = torch.zeros(2, requires_grad=True)
    opt = getattr(torch.optim, optimizer_class)([p], **optimizer_kwargs)
    scheduler = build(opt)
    seen: dict[str, list] = {key: [] for key in ("lr", "momentum", "betas") if key in opt.param_groups[0]}
    for _ in range(steps):
        for key in seen:
            seen[key].append(opt.param_groups[0][key])
        p.grad = torch.ones(2)
        opt.step()
        scheduler.step()
    return seen


def assert_close(ours, theirs, rtol=RTOL) -> float:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape
    scale = np.maximum(np.abs(theirs), 1e-300)
    worst = float(np.max(np.abs(ours - theirs) / scale)) if ours.size else 0.0
    assert worst <= rtol, worst
    return worst


@pytest.mark.parametrize(("name", "kwargs", "build", "torch_optimizer", "optimizer", "optimizer_kwargs"), PARITY)
def test_values_match_torch(name, kwargs, build, torch_optimizer, optimizer, optimizer_kwargs):
    theirs = torch_group_values(build, torch_optimizer, optimizer_kwargs, STEPS)
    params = OPTIMIZERS.get(optimizer).resolve(optimizer_kwargs)
    ours = resolve_schedule(name, kwargs).values(params, STEPS)
    assert_close(ours["lr"], theirs["lr"])
    cycled = {key for key in ("momentum", "betas") if key in theirs and len(set(map(str, theirs[key]))) > 1}
    assert set(ours) == {"lr"} | cycled
    if "momentum" in cycled:
        assert_close(ours["momentum"], theirs["momentum"])
    if "betas" in cycled:
        assert_close(ours["betas"], theirs["betas"])


@pytest.mark.parametrize(("name", "kwargs", "build", "torch_optimizer", "optimizer", "optimizer_kwargs"),
                         [case for case in PARITY if case[0] in ("cosine", "onecycle", "cosine_restarts")])
def test_torch_class_by_import_path_matches_the_registry(name, kwargs, build, torch_optimizer, optimizer,
                                                         optimizer_kwargs):
    """The import-path route (a dummy optimiser) gives what the registry's recurrence gives."""
    _torch()
    entry = SCHEDULES.get(name)
    params = OPTIMIZERS.get(optimizer).resolve(optimizer_kwargs)
    ours = resolve_schedule(name, kwargs)
    torch_kwargs = {**ours.params, **({"total_steps": STEPS} if ours.params.get("total_steps", 0) is None else {})}
    by_path = resolve_schedule(f"torch.optim.lr_scheduler.{entry.torch_class}", torch_kwargs)
    mine, theirs = ours.values(params, STEPS), by_path.values(params, STEPS)
    assert set(mine) == set(theirs)
    for key in mine:
        np.testing.assert_array_equal(np.asarray(mine[key]), np.asarray(theirs[key]))


@pytest.mark.parametrize(("optimizer", "torch_optimizer", "optimizer_kwargs", "spec"), [
    ("adam", "Adam", {"lr": 0.05}, "onecycle(max_lr=0.05)"),
    ("adam", "Adam", {"lr": 0.05, "betas": (0.8, 0.99)}, "warmup_cosine(warmup_steps=20, T_max=180, eta_min=1e-3)"),
    ("sgd", "SGD", {"lr": 1e-3, "momentum": 0.9}, "onecycle(max_lr=2e-3, three_phase=true)"),
    ("sgd", "SGD", {"lr": 1e-3, "momentum": 0.9}, "cosine(T_max=200)"),
    ("sgd", "SGD", {"lr": 1e-3, "momentum": 0.9}, "step(step_size=50, gamma=0.5)"),
])
def test_race_with_a_schedule_matches_torch(optimizer, torch_optimizer, optimizer_kwargs, spec):
    """Rosenbrock from (-1.5, 2), 200 steps: torch with scheduler.step() after each opt.step() against
    optviz's transform rebuilt every step from schedule.values(...), keeping its state."""
    torch = _torch()
    steps, start = 200, (-1.5, 2.0)
    schedule = parse_schedule(spec)
    x = torch.tensor(start, requires_grad=True)
    opt = getattr(torch.optim, torch_optimizer)([x], **optimizer_kwargs)
    scheduler = _scheduler_for(torch, schedule, opt, steps)
    theirs = []
    for _ in range(steps):
        opt.zero_grad()
        ((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2).backward()
        opt.step()
        scheduler.step()
        theirs.append(x.detach().numpy().copy())

    entry, fn = OPTIMIZERS.get(optimizer), FUNCTIONS.get("rosenbrock")
    params = entry.resolve(optimizer_kwargs)
    values = schedule.values(params, steps)
    position = np.array([start])
    state = entry.build(params).init(position)
    ours = []
    for k in range(steps):
        transform = entry.build({**params, **{key: values[key][k] for key in values}})
        position, state = transform.update(fn.gradient_at(position), state, position)
        ours.append(position[0].copy())
    assert_close(ours, theirs, rtol=1e-9)


def _scheduler_for(torch, schedule: Schedule, opt, steps: int):
    s, p = torch.optim.lr_scheduler, schedule.params
    if schedule.name == "warmup_cosine":
        return _sequential_warmup_cosine(**p)(opt)
    cls = getattr(s, SCHEDULES.get(schedule.name).torch_class)
    return cls(opt, **({**p, "total_steps": steps} if "total_steps" in p and p["total_steps"] is None else p))


def test_values_do_not_need_torch_and_have_the_documented_shapes():
    sgd = OPTIMIZERS.get("sgd").resolve({"lr": 0.1, "momentum": 0.9})
    adam = OPTIMIZERS.get("adam").resolve({"lr": 0.1, "betas": (0.9, 0.98)})
    cycle = parse_schedule("onecycle(max_lr=0.4, pct_start=0.5)")
    with_momentum, with_betas = cycle.values(sgd, 10), cycle.values(adam, 10)
    assert with_momentum["lr"].dtype == np.float64 and with_momentum["lr"].shape == (10,)
    assert with_momentum["momentum"].shape == (10,) and "betas" not in with_momentum
    assert [beta2 for _, beta2 in with_betas["betas"]] == [0.98] * 10 and "momentum" not in with_betas
    np.testing.assert_array_equal([b1 for b1, _ in with_betas["betas"]], with_momentum["momentum"])
    assert with_momentum["lr"][0] == pytest.approx(0.4 / 25, rel=1e-14) and with_momentum["lr"].max() <= 0.4
    assert cycle.values(sgd, 0)["lr"].shape == (0,)
    cosine = parse_schedule("cosine(T_max=10)").values(sgd, 21)["lr"]
    assert cosine[0] == 0.1 and cosine[10] == pytest.approx(0.0, abs=1e-17) and cosine[20] == pytest.approx(0.1)
    assert math.isclose(parse_schedule("step(step_size=5)").values(sgd, 6)["lr"][5], 0.01)


def test_label_shows_what_differs_from_the_defaults_and_json_round_trips():
    assert parse_schedule("cosine(T_max=300)").label() == "cosine(T_max=300)"
    assert parse_schedule("cosine(T_max=300, eta_min=0)").label() == "cosine(T_max=300)"
    assert parse_schedule("Cosine(t_max=300, ETA_MIN=1e-4)").label() == "cosine(T_max=300, eta_min=0.0001)"
    assert parse_schedule("onecycle(max_lr=1, anneal_strategy='linear')").label() == \
        "onecycle(max_lr=1, anneal_strategy=linear)"
    for name in SCHEDULES.names():
        schedule = next(resolve_schedule(name, kwargs) for kwargs, *_ in CASES[name])
        data = schedule.to_json()
        assert data["name"] == name and data["torch_class"].startswith("torch.optim.lr_scheduler.")
        assert set(data["params"]) == {h.name for h in SCHEDULES.get(name).hyperparameters}
        assert parse_schedule(schedule.label()) == schedule


def test_spellings_resolve_to_the_same_schedule():
    reference = resolve_schedule("cosine_restarts", {"T_0": 10})
    for text in ("cosine_restarts(T_0=10)", "cosine-restarts(t_0=10)", "sgdr(T_0=10.0)",
                 " COSINE_RESTARTS ( T_0 = 1e1 ) "):
        assert parse_schedule(text) == reference
    assert parse_schedule("onecycle(max_lr=0.1, anneal_strategy=\"linear\")").params["anneal_strategy"] == "linear"
    assert parse_schedule("multistep(milestones=10)").params["milestones"] == (10,)


REFUSALS = [
    ("", "is empty"),
    ("cosine", "cosine: T_max is required"),
    ("cosine(eta_min=0.1)", "cosine: T_max is required"),
    ("cosine(T_max=0)", "T_max must be >= 1"),
    ("cosine(T_max=2.5)", "T_max must be an integer"),
    ("cosine(T_max=true)", "T_max must be an integer"),
    ("cosine(T_max=10, eta_min=-1)", "eta_min must be >= 0"),
    ("cosine(T_max=10, tmax=3)", "unknown keyword 'tmax'"),
    ("cosin(T_max=10)", "did you mean 'cosine'"),
    ("cosine(T_max=10", "is never closed"),
    ("cosine(T_max=10), step(step_size=3)", "give one schedule"),
    ("step(step_size=0)", "step_size must be >= 1"),
    ("step(step_size=10, gamma=0)", "gamma must be > 0"),
    ("exponential", "exponential: gamma is required"),
    ("multistep(milestones=(30, 10))", "strictly increasing"),
    ("multistep(milestones=(10, 10))", "strictly increasing"),
    ("multistep(milestones=(-1, 10))", "entries must be >= 0"),
    ("multistep(milestones=())", "strictly increasing"),
    ("linear(start_factor=0)", "start_factor must be in (0, 1]"),
    ("linear(end_factor=1.5)", "end_factor must be in [0, 1]"),
    ("linear(total_iters=-1)", "total_iters must be >= 0"),
    ("constant(factor=0)", "factor must be in (0, 1]"),
    ("polynomial(power=-1)", "power must be >= 0"),
    ("onecycle", "max_lr is required"),
    ("onecycle(max_lr=0)", "max_lr must be > 0"),
    ("onecycle(max_lr=0.1, pct_start=1.5)", "pct_start must be in [0, 1]"),
    ("onecycle(max_lr=0.1, anneal_strategy=cosine)", "anneal_strategy must be one of cos, linear"),
    ("onecycle(max_lr=0.1, total_steps=0)", "total_steps must be >= 1"),
    ("onecycle(max_lr=0.1, base_momentum=1)", "base_momentum must be in [0, 1)"),
    ("onecycle(max_lr=0.1, cycle_momentum=1)", "cycle_momentum must be true or false"),
    ("cosine_restarts(T_0=0)", "T_0 must be >= 1"),
    ("cosine_restarts(T_0=5, T_mult=0)", "T_mult must be >= 1"),
    ("warmup_cosine(T_max=10)", "warmup_steps is required"),
    ("warmup_cosine(warmup_steps=-1, T_max=10)", "warmup_steps must be >= 0"),
    ("os.system(command=1)", "only torch classes"),
    ("torch.optim.SGD(lr=1)", "is not a torch learning-rate scheduler"),
    ("torch.optim.lr_scheduler.NoSuchLR(a=1)", "is not a torch learning-rate scheduler"),
    ("torch.optim.lr_scheduler.ReduceLROnPlateau", "needs metrics"),
    ("torch.optim.lr_scheduler.StepLR", "step_size is required"),
    ("torch.optim.lr_scheduler.StepLR(step_size=3, size=4)", "unknown keyword 'size'"),
]


@pytest.mark.parametrize(("text", "expected"), REFUSALS)
def test_refusals_name_the_schedule_and_the_problem(text, expected):
    if text.startswith("torch."):
        _torch()
    with pytest.raises(UsageError) as error:
        parse_schedule(text)
    assert error.value.parameter == "schedule"
    assert expected in error.value.message
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("spec", "optimizer", "steps", "expected"), [
    ("onecycle(max_lr=0.1)", "adagrad", 10, "cycle_momentum=true needs an optimizer with momentum or betas"),
    ("onecycle(max_lr=0.1, total_steps=50)", "sgd", 100, "total_steps=50 is fewer than the race's 100 steps"),
    ("onecycle(max_lr=0.1, pct_start=0.1)", "sgd", 10, "phase of zero steps"),
    ("onecycle(max_lr=0.1, pct_start=1.0)", "sgd", 10, "phase of zero steps"),
])
def test_refusals_that_need_the_race(spec, optimizer, steps, expected):
    params = OPTIMIZERS.get(optimizer).resolve({})
    with pytest.raises(UsageError) as error:
        parse_schedule(spec).values(params, steps)
    assert error.value.parameter == "schedule" and expected in error.value.message


def test_torch_refuses_what_our_onecycle_refuses():
    """The zero-length phase and stepping past total_steps are torch's own errors, not ours."""
    torch = _torch()
    for kwargs, steps in (({"pct_start": 0.1, "total_steps": 10}, 10), ({"pct_start": 1.0, "total_steps": 10}, 10),
                          ({"total_steps": 50}, 100)):
        with pytest.raises((ZeroDivisionError, ValueError)):
            torch_group_values(_cls("OneCycleLR", max_lr=0.1, **kwargs), "SGD", {"lr": 0.1}, steps)


def test_torch_path_errors_from_torch_become_usage_errors():
    _torch()
    schedule = parse_schedule("torch.optim.lr_scheduler.ConstantLR(factor=2.0)")
    with pytest.raises(UsageError, match="factor expected to be between 0 and 1") as error:
        schedule.values(OPTIMIZERS.get("sgd").resolve({}), 5)
    assert error.value.parameter == "schedule"


def test_cyclic_lr_by_import_path_cycles_the_optimisers_momentum():
    torch_theirs = torch_group_values(
        _cls("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=7, mode="triangular2"), "SGD",
        {"lr": 0.1, "momentum": 0.9}, 60)
    schedule = parse_schedule("torch.optim.lr_scheduler.CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=7, "
                              "mode=triangular2)")
    assert schedule.label() == "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=7, mode=triangular2)"
    ours = schedule.values(OPTIMIZERS.get("sgd").resolve({"lr": 0.1, "momentum": 0.9}), 60)
    assert_close(ours["lr"], torch_theirs["lr"], rtol=0)
    assert_close(ours["momentum"], torch_theirs["momentum"], rtol=0)


@given(st.text(max_size=60))
def test_parse_schedule_never_crashes(text):
    """Any text gives a Schedule or a one-line UsageError about the schedule; nothing is imported or run."""
    if "." in text:
        text = text.replace(".", "")  # import paths are exercised above; here torch must not be needed
    try:
        schedule = parse_schedule(text)
    except UsageError as error:
        assert error.parameter == "schedule" and "\n" not in error.message
    else:
        assert schedule.name in SCHEDULES.names()


@given(st.sampled_from(SCHEDULES.names()), st.integers(0, 40), st.floats(1e-6, 10.0))
def test_values_are_finite_and_non_negative(name, steps, lr):
    schedule = resolve_schedule(name, CASES[name][0][0])
    values = schedule.values(OPTIMIZERS.get("sgd").resolve({"lr": lr, "momentum": 0.9}), steps)
    assert values["lr"].shape == (steps,) and np.all(np.isfinite(values["lr"])) and np.all(values["lr"] >= 0)


def test_importing_schedules_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, optviz.schedules, optviz.clipping; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------- wired into races (api.race)


def _torch_race(torch, optimizer_class: str, optimizer_kwargs: dict, build, steps: int, start=(-1.5, 2.0)):
    """Rosenbrock positions after each step: opt.step() then scheduler.step(), all float64."""
    x = torch.tensor(start, requires_grad=True)
    opt = getattr(torch.optim, optimizer_class)([x], **optimizer_kwargs)
    scheduler = build(opt)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        ((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2).backward()
        opt.step()
        scheduler.step()
        out.append(x.detach().numpy().copy())
    return np.array(out)


def _on_screen(race, theirs):
    """Steps 1.. while torch's path stays inside the plotted domain: a path flung far out by a too-large lr
    amplifies the last-bit differences of the two gradients (autograd's and optviz's analytic one) without bound."""
    (low_x, high_x), (low_y, high_y) = race.function.domain
    outside = ~((low_x <= theirs[:, 0]) & (theirs[:, 0] <= high_x) & (low_y <= theirs[:, 1]) & (theirs[:, 1] <= high_y))
    end = int(np.argmax(outside)) if outside.any() else len(theirs)
    return race.trajectories.positions[1:end + 1, 0, 0], theirs[:end]


RACE_LR = {"sgd": 1e-3, "adam": 0.01, "rmsprop": 1e-3}  # base lrs that keep rosenbrock from (-1.5, 2) on screen


@pytest.mark.parametrize("route", ["native", "plugin"])
@pytest.mark.parametrize(("name", "kwargs", "build", "torch_optimizer", "optimizer", "optimizer_kwargs"), PARITY)
def test_a_race_with_a_schedule_matches_torch_through_the_api(route, name, kwargs, build, torch_optimizer, optimizer,
                                                              optimizer_kwargs):  # build: see _scheduler_for
    """--schedule on every optimiser, through optviz.race: the native transform rebuilt each step, or torch's own
    class stepped by optviz with its param group's lr (and momentum or betas) set each step."""
    import optviz
    from optviz.specs import format_call

    torch = _torch()
    optimizer_kwargs = {**optimizer_kwargs, "lr": RACE_LR[optimizer]}
    if "max_lr" in kwargs:  # onecycle ignores the optimiser's lr: keep its peak on screen too
        kwargs = {**kwargs, "max_lr": 10 * RACE_LR[optimizer]}
    spec = format_call(optimizer if route == "native" else f"torch.optim.{torch_optimizer}", optimizer_kwargs)
    race = optviz.race("rosenbrock", [spec], schedule=format_call(name, kwargs), steps=STEPS, tune=False)
    schedule = resolve_schedule(name, kwargs)
    theirs = _torch_race(torch, torch_optimizer, optimizer_kwargs,
                         lambda opt: _scheduler_for(torch, schedule, opt, STEPS), STEPS)
    ours, theirs = _on_screen(race, theirs)
    assert len(ours) >= 3, "the case diverges at once: it checks nothing"
    assert_paths_agree(ours, theirs)  # 1e-9 relative to max(|x|, 1), the parity suites' definition
    (run,) = race.runs
    assert run.schedule == schedule
    assert race.stats["runs"][0]["schedule"]["name"] == name
    assert f"schedule={run.schedule.label()}" in run.label


def test_a_schedule_inside_one_call_overrides_the_shared_one():
    import optviz

    race = optviz.race("rosenbrock", ["adam(lr=0.05, schedule=exponential(gamma=0.99))", "sgd(lr=1e-3)"],
                       schedule="cosine(T_max=100)", steps=20)
    own, shared = race.runs
    assert own.schedule.name == "exponential" and shared.schedule.name == "cosine"
    assert own.label == "adam lr=0.05, schedule=exponential(gamma=0.99)"
    assert shared.label == "sgd lr=0.001, schedule=cosine(T_max=100)"


def test_the_tuner_tunes_the_scheduled_run():
    """The tuned lr is the base lr of the schedule: tuning runs the same scheduled transform it will race."""
    import optviz

    race = optviz.race("rosenbrock", ["sgd(momentum=0.9)"], schedule="cosine(T_max=300)", steps=300)
    (run,) = race.runs
    assert run.lr_source == "tuned" and run.schedule.name == "cosine"
    assert run.label.startswith("sgd lr=") and "(tuned)" in run.label and "schedule=cosine(T_max=300)" in run.label
    assert not np.any(race.trajectories.diverged_step >= 0)


def test_a_bad_shared_schedule_is_a_usage_error_naming_schedule():
    import optviz

    with pytest.raises(UsageError) as caught:
        optviz.race("rosenbrock", ["adam"], schedule="cosin(T_max=3)", steps=5)
    assert caught.value.parameter == "schedule" and "did you mean 'cosine'" in str(caught.value)
    with pytest.raises(UsageError) as caught:
        optviz.race("rosenbrock", ["adam"], schedule=3, steps=5)
    assert caught.value.parameter == "schedule"


def test_a_schedule_that_sets_lr_itself_is_not_tuned():
    import optviz

    race = optviz.race("rosenbrock", ["sgd(momentum=0.9)", "adam"], schedule="onecycle(max_lr=0.01)", steps=50)
    assert [run.lr_source for run in race.runs] == ["default", "default"]
    assert race.runs[1].label == "adam schedule=onecycle(max_lr=0.01)"
    assert [SCHEDULES.get(name).uses_base_lr for name in SCHEDULES.names()].count(False) == 1
