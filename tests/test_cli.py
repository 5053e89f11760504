"""The command line through typer's CliRunner (stdout and stderr apart) and through real subprocesses."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from optviz import __version__
from optviz.cli import app
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.specs import format_number

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def strict_json(text):
    def refuse(token):
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_stats_prints_the_json_contract():
    result = invoke("stats", "--fn", "rosenbrock", "--opt", "adam(lr=0.05),sgd", "--steps", "120")
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["optviz"] == __version__
    assert doc["function"] == {
        "name": "rosenbrock", "expression": FUNCTIONS.get("rosenbrock").formula,
        "dimensions": 2, "domain": [[-2.0, 2.0], [-1.0, 3.0]], "minima": [[1.0, 1.0]], "f_min": 0.0,
        "minima_source": "literature", "unbounded": False, "minimum_on_edge": False,
    }
    assert doc["start"] == [-1.5, 2.0] and doc["steps"] == 120
    adam, sgd = doc["runs"]
    assert adam["label"] == "adam lr=0.05" and adam["optimizer"] == "adam"
    assert sgd["label"] == f"sgd lr={format_number(sgd['params']['lr'])} (tuned)"
    assert adam["params"] == {**OPTIMIZERS.get("adam").defaults(), "lr": 0.05, "betas": [0.9, 0.999]}
    assert adam["lr_source"] == "user" and sgd["lr_source"] == "tuned"
    for run in (adam, sgd):
        assert run["source"] == "built-in" and run["schedule"] is None and run["clip"] is None
        assert set(run) == {"label", "optimizer", "source", "params", "lr_source", "schedule", "clip", "final",
                            "best_loss",
                            "distance_to_minimum", "converged_step", "diverged", "diverged_step", "path_length"}
        assert run["best_loss"] <= run["final"]["loss"]
        assert run["diverged"] is False and run["diverged_step"] is None


def test_stats_trajectory_has_a_row_per_step_plus_the_start():
    result = invoke("stats", "--fn", "beale", "--opt", "adam", "--steps", "30", "--trajectory", "--start=1,1")
    assert result.exit_code == 0, result.stderr
    (run,) = strict_json(result.stdout)["runs"]
    assert len(run["trajectory"]) == 31
    assert run["trajectory"][0][:2] == [1.0, 1.0]
    assert run["trajectory"][-1] == [run["final"]["x"], run["final"]["y"], run["final"]["loss"]]


def test_a_diverging_optimizer_is_a_result_and_the_json_stays_strict():
    result = invoke("stats", "--fn", "rosenbrock", "--opt", "sgd(lr=1),adam(lr=0.01)", "--steps", "50",
                    "--trajectory")
    assert result.exit_code == 0, result.stderr
    sgd, adam = strict_json(result.stdout)["runs"]
    assert sgd["diverged"] is True and isinstance(sgd["diverged_step"], int)
    assert adam["diverged"] is False


def test_stats_on_an_unbounded_function_reports_nulls():
    result = invoke("stats", "--fn", "saddle", "--opt", "sgd", "--steps", "20")
    doc = strict_json(result.stdout)
    assert doc["function"]["f_min"] is None and doc["function"]["minima"] == []
    assert doc["runs"][0]["distance_to_minimum"] is None and doc["runs"][0]["converged_step"] is None


def test_repeated_opt_and_duplicate_optimizers_get_distinct_labels():
    result = invoke("stats", "--opt", "adam(lr=0.05)", "--opt", "adam(lr=0.01),nesterov", "--steps", "10")
    assert result.exit_code == 0, result.stderr
    labels = [run["label"] for run in strict_json(result.stdout)["runs"]]
    assert labels[:2] == ["adam lr=0.05", "adam lr=0.01"]
    assert labels[2].startswith("nesterov lr=") and labels[2].endswith(" (tuned)")


@pytest.mark.parametrize("what, registry", [("functions", FUNCTIONS), ("optimizers", OPTIMIZERS)])
def test_list_json_covers_the_registry(what, registry):
    result = invoke("list", what, "--json")
    assert result.exit_code == 0, result.stderr
    entries = strict_json(result.stdout)
    assert [e["name"] for e in entries] == registry.names()


def test_list_table_goes_to_stdout():
    result = invoke("list", "optimizers")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "nesterov" in result.stdout and "rmsprop" in result.stdout


BAD_INPUTS = [
    (["stats", "--fn", "rosenbruck"], "did you mean 'rosenbrock'"),
    (["stats", "--opt", "adma"], "did you mean 'adam'"),
    (["stats", "--opt", "adam(lrr=0.1)"], "lrr"),
    (["stats", "--opt", "adam(lr=-1)"], "lr"),
    (["stats", "--opt", "adam(betas=(0.9, 1.0))"], "betas"),
    (["stats", "--opt", "sgd(nesterov=true)"], "nesterov"),
    (["stats", "--opt", "adam(lr=0.1"], "adam(lr=0.1"),
    (["stats", "--opt", "adam,,sgd"], "--opt"),
    (["stats", "--opt", "adam(lr=__import__('os'))"], "--opt"),
    (["stats", "--start=1"], "start"),
    (["stats", "--start=1,2,3"], "start"),
    (["stats", "--start=a,b"], "start"),
    (["stats", "--start=nan,0"], "start"),
    (["stats", "--start=inf,0"], "start"),
    (["stats", "--start=1e308,1e308"], "--start"),
    (["stats", "--start=1e150,0"], "--start"),
    (["stats", "--start=1e10,1e10"], "far outside"),
    (["stats", "--fn", "sqrt(x)", "--start=-1", "--domain=-2,2"], "not finite"),
    (["stats", "--fn", "x**2", "--start=1,2"], "--start"),
    (["stats", "--fn", "x**2 + z"], "--fn"),
    (["stats", "--fn", "x**2", "--domain=-1,1,-1,1"], "--domain"),
    (["stats", "--domain=1,-1,0,1"], "--domain"),
    (["stats", "--fn", "x**2", "--start=1e150"], "--start"),
    (["stats", "--fn", "x**2+y**2", "--start=1e200,1"], "--start"),
    (["stats", "--fn", "x**2", "--domain=-1e-300,1e-300"], "too narrow"),
    (["stats", "--domain=-1e300,1e300,-1,1"], "--domain"),
    (["stats", "--lr", "-0.1"], "--lr"),
    (["stats", "--lr", "nan"], "--lr"),
    (["stats", "--steps", "0"], "--steps"),
    (["stats", "--steps", "ten"], "--steps"),
    (["stats", "--bogus"], "--bogus"),
    (["list", "gadgets"], "gadgets"),
]


@pytest.mark.parametrize("args, named", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_on_stderr_with_exit_2(args, named):
    result = invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert named.lower() in lines[0].lower()
    assert "Traceback" not in result.stderr


def run_optviz(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "optviz", *args], capture_output=True, text=True, timeout=120,
                          **kwargs)


def test_real_subprocess_stats_and_error():
    ok = run_optviz("stats", "--fn", "himmelblau", "--opt", "adam,momentum", "--steps", "50")
    assert ok.returncode == 0, ok.stderr
    assert [r["optimizer"] for r in strict_json(ok.stdout)["runs"]] == ["adam", "momentum"]
    bad = run_optviz("stats", "--opt", "adam(lr=oops)")
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("args", [["--help"], ["stats", "--help"], ["list", "functions"], ["list"],
                                  ["stats", "--steps", "5"], ["race", "--help"],
                                  ["stats", "--fn", "x**2", "--steps", "5"]])
def test_commands_that_draw_nothing_do_not_import_matplotlib_or_imageio(args):
    probe = (
        "import sys\n"
        "from optviz.cli.app import app\n"
        f"code = app(args={args!r}, standalone_mode=False)\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('matplotlib', 'imageio', 'imageio_ffmpeg', 'torch', 'PIL'))\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stderr, result.stderr


def test_core_modules_import_one_way():
    probe = (
        "import sys, optviz.engine, optviz.stats, optviz.racing, optviz.tuning, optviz.specs\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click', 'matplotlib', 'imageio')"
        " or m.split('.')[:2] in (['optviz', 'cli'], ['optviz', 'render']))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_version_goes_to_stdout():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"optviz {__version__}"


# ------------------------------------------------------------------------------------------ a thin layer over the API


def test_stats_prints_exactly_what_the_api_computes():
    import optviz

    result = invoke("stats", "--fn", "beale", "--opt", "adam,sgd(lr=1e-3)", "--start=1,1", "--steps", "40",
                    "--lr", "0.02", "--domain=-4,4,-4,4", "--trajectory")
    assert result.exit_code == 0, result.stderr
    api = optviz.race("beale", ["adam,sgd(lr=1e-3)"], start=(1, 1), steps=40, lr=0.02, domain=(-4, 4, -4, 4))
    assert strict_json(result.stdout) == strict_json(api.to_json(trajectory=True))


def test_lr_sets_every_optimizer_that_names_none():
    result = invoke("stats", "--opt", "adam,sgd(lr=1e-3),rmsprop", "--lr", "0.01", "--steps", "5")
    assert result.exit_code == 0, result.stderr
    runs = strict_json(result.stdout)["runs"]
    assert [(r["params"]["lr"], r["lr_source"]) for r in runs] == [(0.01, "user"), (0.001, "user"), (0.01, "user")]


def test_the_seed_experiment_is_a_one_dimensional_race():
    result = invoke("stats", "--fn", "x**2", "--start=3", "--opt", "gd,momentum,nesterov,adagrad,rmsprop,adam",
                    "--lr", "0.01", "--steps", "1000", "--trajectory")
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    assert doc["function"]["dimensions"] == 1 and doc["start"] == [3.0] and doc["steps"] == 1000
    assert len(doc["runs"]) == 6
    for run in doc["runs"]:
        assert run["lr_source"] == "user" and run["params"]["lr"] == 0.01
        assert set(run["final"]) == {"x", "loss"}
        assert len(run["trajectory"]) == 1001 and all(len(row) == 2 for row in run["trajectory"])
        assert run["trajectory"][0] == [3.0, 9.0]
    gd = doc["runs"][0]["trajectory"]
    assert gd[1][0] == pytest.approx(3.0 - 0.01 * 2 * 3.0, rel=1e-15)  # one step of x <- x - lr * 2x


def test_an_expression_races_like_the_built_in_it_spells():
    common = ["--opt", "adam(lr=0.05),sgd(lr=1e-3, momentum=0.9)", "--start=-1.5,2", "--steps", "60", "--trajectory"]
    built_in = strict_json(invoke("stats", "--fn", "rosenbrock", *common).stdout)
    typed = invoke("stats", "--fn", "(1-x)**2 + 100*(y-x**2)**2", "--domain=-2,2,-1,3", *common)
    assert typed.exit_code == 0, typed.stderr
    for ours, theirs in zip(strict_json(typed.stdout)["runs"], built_in["runs"]):
        np.testing.assert_allclose(ours["trajectory"], theirs["trajectory"], rtol=1e-12, atol=0)


def test_an_expression_without_domain_states_the_chosen_view_on_stderr():
    result = invoke("stats", "--fn", "(x-1)**2 + (y+2)**2", "--opt", "adam", "--steps", "5")
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    domain = strict_json(result.stdout)["function"]["domain"]
    assert line.startswith("view: x in [") and "y in [" in line and "--domain" in line
    assert f"{domain[0][0]:.4g}" in line and f"{domain[1][1]:.4g}" in line


@pytest.mark.parametrize("args", [
    ["--fn", "(x-1)**2 + (y+2)**2", "--domain=-3,3,-4,2"],
    ["--fn", "(x-1)**2 + (y+2)**2", "--quiet"],
    ["--fn", "himmelblau"],
])
def test_no_view_note_when_the_view_is_given_or_quiet_or_built_in(args):
    result = invoke("stats", *args, "--opt", "adam", "--steps", "5")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("args", [["--help"], ["race", "--help"], ["stats", "--help"]])
def test_help_shows_an_expression_example(args):
    result = invoke(*args)
    assert result.exit_code == 0
    assert '"x**2"' in result.stdout and "(1-x)**2 + 100*(y-x**2)**2" in result.stdout


@pytest.mark.parametrize("start", ["abc", [[1, 2], [3, 4]], object(), (1,), (1e150, 0), (1e10, 1e10), (np.nan, 0)])
def test_the_api_refuses_odd_starts_with_a_usage_error_naming_start(start):
    import optviz

    with pytest.raises(optviz.UsageError) as raised:
        optviz.race("booth", ["adam"], start=start, steps=3)
    assert "start" in str(raised.value) and "\n" not in str(raised.value)


def test_a_bad_optimizer_is_refused_before_an_expressions_minima_are_searched(monkeypatch):
    def no_search(*args, **kwargs):
        raise AssertionError("searched first")

    monkeypatch.setattr("optviz.functions.user.find_minima", no_search)
    result = invoke("stats", "--fn", "x**2 + y**2", "--opt", "adma")
    assert result.exit_code == 2 and "did you mean 'adam'" in result.stderr


def test_numpy_runtime_warnings_do_not_reach_people(monkeypatch):
    import warnings

    import optviz.api

    real = optviz.api.run_race

    def overflowing(*args, **kwargs):
        warnings.warn("overflow encountered in multiply", RuntimeWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr("optviz.api.run_race", overflowing)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        result = invoke("stats", "--opt", "sgd(lr=1)", "--steps", "60")
    assert result.exit_code == 0 and result.stderr == ""
    assert [w for w in shown if issubclass(w.category, RuntimeWarning)] == []
    assert strict_json(result.stdout)["runs"][0]["diverged"] is True


_NUMBERISH = st.text(alphabet="0123456789.,-+eE ()[]xinfa", max_size=24)


@settings(max_examples=60)
@given(start=st.one_of(st.none(), _NUMBERISH), domain=st.one_of(st.none(), _NUMBERISH))
def test_any_start_and_domain_text_is_a_result_or_one_line(start, domain):
    args = ["stats", "--fn", "booth", "--opt", "adam(lr=0.1)", "--steps", "2"]
    args += [f"--start={start}"] if start is not None else []
    args += [f"--domain={domain}"] if domain is not None else []
    result = invoke(*args)
    assert result.exit_code in (0, 2), (args, result.exception)
    if result.exit_code == 0:
        strict_json(result.stdout)
    else:
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
