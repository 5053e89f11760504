"""The command line through typer's CliRunner (stdout and stderr apart) and through real subprocesses."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from optviz import __version__
from optviz.cli import app
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS

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
    assert adam["label"] == "adam" and adam["optimizer"] == "adam"
    assert adam["params"] == {**OPTIMIZERS.get("adam").defaults(), "lr": 0.05, "betas": [0.9, 0.999]}
    assert adam["lr_source"] == "user" and sgd["lr_source"] == "tuned"
    for run in (adam, sgd):
        assert set(run) == {"label", "optimizer", "params", "lr_source", "start", "start_index", "final", "best_loss",
                            "distance_to_minimum", "converged_step", "diverged", "diverged_step", "path_length",
                            "evaluations"}
        assert run["start"] == [-1.5, 2.0] and run["start_index"] == 0
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
    assert len(set(labels)) == 3 and labels[2] == "nesterov"


@pytest.mark.parametrize("what, registry", [("functions", FUNCTIONS), ("optimizers", OPTIMIZERS)])
def test_list_json_covers_the_registry(what, registry):
    result = invoke("list", what, "--json")
    assert result.exit_code == 0, result.stderr
    entries = strict_json(result.stdout)
    assert [e["name"] for e in entries] == registry.names()


def test_list_table_goes_to_stderr():
    result = invoke("list", "optimizers")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "nesterov" in result.stderr and "rmsprop" in result.stderr


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
    (["stats", "--start=1e308,1e308"], "far outside the domain"),
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


@pytest.mark.parametrize("args", [["--help"], ["stats", "--help"], ["list", "functions"],
                                  ["stats", "--steps", "5"], ["race", "--help"]])
def test_commands_that_draw_nothing_do_not_import_matplotlib_or_imageio(args):
    probe = (
        "import sys\n"
        "from optviz.cli.app import app\n"
        f"code = app(args={args!r}, standalone_mode=False)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'imageio', 'imageio_ffmpeg', 'torch', 'PIL'))\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stderr, result.stderr


def test_core_modules_import_one_way():
    probe = (
        "import sys, optviz.engine, optviz.stats, optviz.racing, optviz.tuning, optviz.specs\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click', 'matplotlib', 'imageio')"
        " or m.startswith('optviz.cli') or m.startswith('optviz.render'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_version_goes_to_stdout():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"optviz {__version__}"
