"""Optimisers by import path and entry point: torch.optim classes stepped by torch itself, native OptimizerDefs.

Parity here is torch's own class through optviz's engine against optviz's native transform (both float64),
and torch's LBFGS stepped directly against the same class through the plugin transform with an oracle.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import optviz
from optviz.cli import app
from optviz.errors import UsageError
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.plugins import ENTRY_POINT_GROUP, INSTALL_TORCH, find_optimizer, registered_optimizers
from optviz.racing import resolve_runs, run_race
from optviz.specs import parse_optimizer_list
from optviz.tuning import LR_GRID
from tests.torch_reference import requires_torch, torch

ROSENBROCK = FUNCTIONS.get("rosenbrock")
START = (-1.5, 2.0)
PARITY_TOLERANCE = 1e-12

# Hyperparameters that keep each torch class stable for 150 steps on rosenbrock from (-1.5, 2).
PARITY_LR = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 0.1, "rmsprop": 1e-3, "adam": 0.05,
             "adamw": 0.05, "adamax": 0.05, "nadam": 0.05, "radam": 0.01, "adadelta": 1.0, "lbfgs": 1.0}
NATIVE_WITH_TORCH_CLASS = [entry for entry in OPTIMIZERS if entry.torch_class is not None]


def test_every_optimizer_with_a_torch_class_has_a_plugin_parity_case():
    assert sorted(PARITY_LR) == sorted(entry.name for entry in NATIVE_WITH_TORCH_CLASS)


def test_every_optimizer_with_a_torch_class_is_in_exactly_one_torch_parity_table():
    from tests.test_lbfgs import PARITY_TABLE as LBFGS
    from tests.test_parity_adam import ADAM_FAMILY
    from tests.test_parity_sgd_adaptive import OURS as SGD_ADAPTIVE

    tables = [ADAM_FAMILY, SGD_ADAPTIVE, LBFGS]
    for entry in NATIVE_WITH_TORCH_CLASS:
        assert sum(entry.name in table for table in tables) == 1, entry.name
    assert [entry.name for entry in OPTIMIZERS if entry.torch_class is None] == ["lion", "newton"]


def _race(optimizers, steps=150, starts=(START,), tune=False):
    return run_race(ROSENBROCK, resolve_runs(parse_optimizer_list(list(optimizers))), list(starts), steps, tune=tune)


def _worst_relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float((np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1.0)).max())


@requires_torch
def test_torch_adam_through_the_plugin_equals_native_adam_to_1e_12():
    race = optviz.race("rosenbrock", ["adam(lr=0.05)", "torch.optim.Adam(lr=0.05)"], steps=300, tune=False)
    positions = race.trajectories.positions
    assert _worst_relative(positions[:, 1], positions[:, 0]) <= PARITY_TOLERANCE
    assert race.runs[1].optimizer == "torch.optim.Adam" and race.runs[1].source == "import path"


@requires_torch
@pytest.mark.parametrize("entry", NATIVE_WITH_TORCH_CLASS, ids=lambda e: e.name)
def test_every_torch_class_through_the_plugin_equals_the_native_entry(entry):
    """The plugin gets the native run's every hyperparameter the torch class knows (presets included)."""
    (native,) = resolve_runs(parse_optimizer_list([f"{entry.name}(lr={PARITY_LR[entry.name]!r})"]))
    cls = getattr(torch.optim, entry.torch_class)
    known = inspect.signature(cls.__init__).parameters
    keywords = ", ".join(f"{key}={_literal(value)}" for key, value in native.params.items() if key in known)
    race = _race([f"{entry.name}(lr={PARITY_LR[entry.name]!r})", f"torch.optim.{entry.torch_class}({keywords})"])
    positions = race.trajectories.positions
    assert np.all(race.trajectories.diverged_step == -1)
    assert _worst_relative(positions[:, 1], positions[:, 0]) <= PARITY_TOLERANCE
    evaluations = race.trajectories.evaluations  # one a step, or (lbfgs) torch's func_evals on both sides
    np.testing.assert_array_equal(evaluations[:, 1], evaluations[:, 0])


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


@requires_torch
def test_each_start_is_stepped_as_if_alone():
    """Two starts in one race equal two races of one start each (each start has its own tensor and state)."""
    other = (1.5, -0.5)
    both = _race(["torch.optim.Adam(lr=0.05)"], starts=(START, other)).trajectories.positions[:, 0]
    alone = [_race(["torch.optim.Adam(lr=0.05)"], starts=(s,)).trajectories.positions[:, 0, 0] for s in (START, other)]
    np.testing.assert_array_equal(both[:, 0], alone[0])
    np.testing.assert_array_equal(both[:, 1], alone[1])


@requires_torch
def test_a_batched_lr_is_one_instance_per_row():
    (run,) = resolve_runs(parse_optimizer_list(["torch.optim.RMSprop"]))
    lrs = np.array([[1e-3], [1e-2], [3e-2]])
    transform = run.transform(20, {**run.params, "lr": lrs})
    params = np.tile(np.array(START), (3, 1))
    state = transform.init(params)
    for _ in range(20):
        params, state = transform.update(ROSENBROCK.gradient_at(params), state, params)
    for row, lr in enumerate(lrs[:, 0]):
        alone = _race([f"torch.optim.RMSprop(lr={float(lr)!r})"], steps=20).trajectories.positions[-1, 0, 0]
        np.testing.assert_array_equal(params[row], alone)


@requires_torch
def test_the_tuner_works_for_plugins_and_chooses_as_for_the_native_class():
    race = _race(["adam", "torch.optim.Adam"], steps=300, tune=True)
    native, plugin = race.runs
    assert plugin.lr_source == "tuned" and plugin.params["lr"] in LR_GRID
    assert plugin.params["lr"] == native.params["lr"]
    assert plugin.label.startswith("Adam lr=") and plugin.label.endswith(" (tuned)")


@requires_torch
def test_plugin_params_are_the_complete_signature_with_torch_defaults():
    (run,) = resolve_runs(parse_optimizer_list(["torch.optim.ASGD(lr=0.01)"]))
    # torch.optim.ASGD's documented defaults, written out here
    expected = {"lr": 0.01, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0, "foreach": None,
                "maximize": False, "differentiable": False, "capturable": False}
    assert run.params == expected
    assert run.label == "ASGD lr=0.01" and run.lr_source == "user"
    document = optviz.race("rosenbrock", ["torch.optim.ASGD(lr=0.01)"], steps=5).stats["runs"][0]
    assert document["params"] == expected and document["optimizer"] == "torch.optim.ASGD"


@requires_torch
def test_values_from_the_grammar_reach_torch():
    (run,) = resolve_runs(parse_optimizer_list(["torch.optim.Adam(lr=0.05, amsgrad=True, betas=[0.8, 0.99])"]))
    assert run.params["amsgrad"] is True and run.params["betas"] == (0.8, 0.99)
    assert run.label == "Adam lr=0.05, betas=(0.8, 0.99), amsgrad=true"
    (lbfgs,) = resolve_runs(parse_optimizer_list(["torch.optim.LBFGS(line_search_fn='strong_wolfe')"]))
    assert lbfgs.params["line_search_fn"] == "strong_wolfe" and lbfgs.definition.make.args[1] >= {"value"}


@requires_torch
def test_a_closure_class_is_stepped_with_the_oracle_exactly_as_torch_steps_it():
    """torch.optim.LBFGS with strong Wolfe: one optviz step is one `.step(closure)`; the oracle serves f and ∇f."""
    steps = 15
    x = torch.tensor(START, requires_grad=True)
    reference = torch.optim.LBFGS([x], line_search_fn="strong_wolfe")

    def closure():
        reference.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    theirs, their_evaluations = [], []
    for _ in range(steps):
        reference.step(closure)
        theirs.append(x.detach().numpy().copy())
        their_evaluations.append(reference.state[x]["func_evals"])

    (run,) = resolve_runs(parse_optimizer_list(["torch.optim.LBFGS(line_search_fn='strong_wolfe')"]))
    transform = run.transform(steps)
    assert "value" in transform.needs
    evaluations = []

    def oracle(points, rows):
        evaluations.append(len(rows))
        return ROSENBROCK.value_at(points), ROSENBROCK.gradient_at(points)

    params = np.array([START])
    state = transform.init(params)
    ours, our_evaluations = [], []
    for _ in range(steps):
        value, grad = ROSENBROCK.value_and_gradient_at(params)
        params, state = transform.update(grad, state, params, value=value, oracle=oracle)
        ours.append(params[0].copy())
        our_evaluations.append(len(our_evaluations) + 1 + sum(evaluations))  # the step's own one + the oracle's
    assert _worst_relative(np.array(ours), np.array(theirs)) <= 1e-10
    assert our_evaluations == their_evaluations  # the first closure call of a step is served without the oracle
    assert sum(evaluations) > steps  # the line search evaluates more than once per step


def test_a_native_optimizer_def_can_be_named_by_import_path():
    race = _race(["sgd(lr=0.01, momentum=0.5)", "optviz.optimizers.sgd:sgd(lr=0.01, momentum=0.5)"], steps=50)
    np.testing.assert_array_equal(race.trajectories.positions[:, 0], race.trajectories.positions[:, 1])
    assert race.runs[1].optimizer == "optviz.optimizers.sgd:sgd" and race.runs[1].source == "import path"
    assert [run.label for run in race.runs] == ["sgd lr=0.01, momentum=0.5", "sgd lr=0.01, momentum=0.5 #2"]


ENTRY_POINT_MODULE = '''
from optviz.optimizers import OPTIMIZERS

slow_sgd = OPTIMIZERS.get("sgd").preset("slow-sgd", "sgd with a small default lr", lr=1e-4)
'''


@pytest.fixture
def registered_package(tmp_path, monkeypatch):
    """A distribution registering `slow-sgd` under the optviz.optimizers entry-point group."""
    (tmp_path / "slow_plugin.py").write_text(ENTRY_POINT_MODULE)
    info = tmp_path / "slow_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nslow-sgd = slow_plugin:slow_sgd\n"
                                           f"adam = slow_plugin:slow_sgd\nstochastic = torch.optim:ASGD\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_an_entry_point_registers_an_optimizer_by_name(registered_package):
    found = find_optimizer("slow-sgd")
    assert found.definition.name == "slow-sgd" and "slow-plugin" in found.source
    (run,) = resolve_runs(parse_optimizer_list(["slow-sgd"]))
    assert run.params["lr"] == 1e-4 and run.optimizer == "slow-sgd"
    assert find_optimizer("adam").definition is OPTIMIZERS.get("adam")  # a built-in name always wins
    found, _ = registered_optimizers()
    listed = {item.name: item.source for item in found}
    assert listed["adam"] == "built-in" and "slow-plugin" in listed["slow-sgd"]


@requires_torch
def test_an_entry_point_may_register_a_torch_class_under_its_own_name(registered_package):
    (run,) = resolve_runs(parse_optimizer_list(["stochastic(lr=0.01)"]))
    assert run.optimizer == "stochastic" and run.label == "stochastic lr=0.01" and "t0" in run.params
    assert run.source == "entry point torch.optim:ASGD (slow-plugin)"


def test_list_optimizers_shows_where_each_came_from(registered_package):
    result = CliRunner().invoke(app, ["list", "optimizers", "--json"])
    assert result.exit_code == 0, result.output
    import json

    entries = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert entries["adam"]["source"] == "built-in"
    assert entries["slow-sgd"]["source"].startswith("entry point slow_plugin:slow_sgd (slow-plugin)")
    assert [name for name in entries][: len(OPTIMIZERS.names())] == OPTIMIZERS.names()


REFUSALS = [
    ("nosuchmodule.x:Adam", "no module named 'nosuchmodule'"),
    ("optviz.optimizers:Nope", "optviz.optimizers has no 'Nope'"),
    ("os.path:join", "is not an optimizer"),
    ("optviz.optimizers.base:Transform", "is not an optimizer"),
]
TORCH_REFUSALS = [
    ("torch.optim.Adam(lr=-1)", "Invalid learning rate"),
    ("torch.optim.Adam(betas=(0.9, 2.0))", "torch refuses"),
    ("torch.optim.Adam(bogus=1)", "unknown keyword 'bogus'"),
    ("torch.optim.NoSuchOptimizer", "torch.optim has no 'NoSuchOptimizer'"),
    ("torch.optim.Optimizer", "required"),  # its `defaults` has no default
    ("torch.nn.Linear", "is not an optimizer"),
    ("torch.optim.Adam(lr=adam(lr=1))", "must be a number, true, false, none"),
]


@pytest.mark.parametrize(("spec", "fragment"), REFUSALS + [pytest.param(*case, marks=requires_torch)
                                                            for case in TORCH_REFUSALS])
def test_refusals_are_one_line_exit_2(spec, fragment):
    result = CliRunner().invoke(app, ["stats", "--opt", spec, "--steps", "5", "--no-tune"])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("spec", "fragment"), REFUSALS)
def test_refusals_are_usage_errors_in_the_api(spec, fragment):
    with pytest.raises(UsageError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        optviz.race("rosenbrock", [spec], steps=3)


def _subprocess(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_without_torch_the_message_says_how_to_install_it():
    result = _subprocess("""
        import sys
        sys.modules["torch"] = None  # as if torch were not installed
        from optviz.cli import app
        app(["stats", "--opt", "adam,torch.optim.ASGD", "--steps", "3"])
    """)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and INSTALL_TORCH in result.stderr
    assert result.stdout == ""


def test_torch_is_imported_only_when_a_spec_needs_it():
    result = _subprocess("""
        import sys, optviz
        optviz.race("rosenbrock", ["adam", "optviz.optimizers.sgd:sgd"], steps=3)
        print("torch" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_pyproject_declares_the_torch_extra():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert any(requirement.startswith("torch") for requirement in project["optional-dependencies"]["torch"])
    assert 'pip install "optviz[torch]"' in INSTALL_TORCH


_PLUGIN_PATHS = ["torch.optim.Adam", "torch.optim.SGD", "torch.optim.ASGD", "torch.optim.Rprop", "torch.optim.LBFGS",
                 "optviz.optimizers.sgd:sgd", "os.path:join", "optviz:race", "torch.optim:Adam.step", "torch:nn"]
_KEYS = ["lr", "momentum", "betas", "etas", "step_sizes", "nesterov", "max_iter", "line_search_fn", "amsgrad", "x"]
_VALUES = st.one_of(st.floats(-1e3, 1e3), st.integers(-5, 5), st.booleans(), st.none(),
                    st.sampled_from(["strong_wolfe", "", "x"]),
                    st.tuples(st.floats(-2, 2), st.floats(-2, 2)), st.tuples(st.integers(-2, 2)))


@requires_torch
@settings(max_examples=80, deadline=None)
@given(st.sampled_from(_PLUGIN_PATHS), st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=3))
def test_any_keywords_to_any_path_give_a_run_that_steps_or_one_usage_error(path, kwargs):
    from optviz.specs import format_call

    text = format_call(path, kwargs)
    try:
        race = run_race(ROSENBROCK, resolve_runs(parse_optimizer_list([text])), [START], 3, tune=False)
    except UsageError as error:
        assert len(str(error).splitlines()) == 1
    else:
        assert race.trajectories.positions.shape == (4, 1, 1, 2)


@requires_torch
def test_a_plugin_race_through_a_real_subprocess():
    result = subprocess.run([sys.executable, "-m", "optviz", "stats", "--opt", "adam,torch.optim.ASGD(lr=0.01)",
                             "--steps", "20", "--schedule", "cosine(T_max=20)", "--clip-norm", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    import json

    adam, asgd = json.loads(result.stdout)["runs"]
    assert asgd["optimizer"] == "torch.optim.ASGD" and asgd["source"] == "import path"
    assert asgd["label"] == "ASGD lr=0.01, schedule=cosine(T_max=20), clip_norm=1"
    assert asgd["params"]["t0"] == 1e6 and asgd["clip"] == {"clip_norm": 1.0, "norm_type": 2.0}
    assert adam["label"].startswith("adam lr=") and "(tuned)" in adam["label"]


def test_the_optimizer_table_has_a_source_column(registered_package):
    result = CliRunner().invoke(app, ["list", "optimizers"])
    assert result.exit_code == 0
    table = result.stderr + result.stdout
    assert "source" in table and "built-in" in table and "slow-sgd" in table


def test_a_registered_optimizer_that_cannot_load_is_listed_with_the_reason(registered_package):
    info = registered_package / "slow_plugin-1.0.dist-info" / "entry_points.txt"
    info.write_text(info.read_text() + "broken = no_such_module_here:thing\n")
    _, broken = registered_optimizers()
    assert "no_such_module_here" in broken["broken"]
    result = CliRunner().invoke(app, ["list", "optimizers", "--json"])
    assert result.exit_code == 0, result.output
    import json

    entries = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert entries["broken"]["source"] == "entry point (not loadable)" and "slow-sgd" in entries
