"""The public API as a user meets it: `import optviz`, `optviz.race(...)`, `Race.stats` and `Race.save`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import optviz
from optviz.render.spec import FORMATS

ROOT = Path(__file__).resolve().parent.parent
MAGIC = {"gif": b"GIF89a", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "mp4": b"ftyp", "svg": b"<svg",
         "html": b"<!DOCTYPE html>"}


def python(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """A fresh interpreter on this checkout (not whatever optviz is installed), without a display."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def test_magic_numbers_cover_every_format():
    assert sorted(MAGIC) == sorted(FORMATS)


# ------------------------------------------------------------------------------------------------ stats = CLI


STATS_CASES = [
    # (optviz.race arguments, the same on the command line)
    (("rosenbrock", ["adam", "sgd"]), {}, ["--fn", "rosenbrock", "--opt", "adam,sgd"]),
    (("beale", ["adam(lr=0.01)", "rmsprop"]), {"start": (1.0, 1.5), "steps": 120},
     ["--fn", "beale", "--opt", "adam(lr=0.01),rmsprop", "--start=1,1.5", "--steps", "120"]),
    (("himmelblau", ["sgd", "nesterov"]), {"tune": False, "steps": 50},
     ["--fn", "himmelblau", "--opt", "sgd,nesterov", "--no-tune", "--steps", "50"]),
    (("saddle",), {}, ["--fn", "saddle"]),
]


@pytest.mark.parametrize(("args", "keywords", "argv"), STATS_CASES, ids=[" ".join(c[2]) for c in STATS_CASES])
def test_race_stats_is_exactly_what_optviz_stats_prints(tmp_path, args, keywords, argv):
    printed = python("-m", "optviz", "stats", *argv, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert optviz.race(*args, **keywords).stats == json.loads(printed.stdout)


def test_to_json_with_trajectory_is_what_optviz_stats_trajectory_prints(tmp_path):
    printed = python("-m", "optviz", "stats", "--fn", "booth", "--opt", "adam", "--steps", "30", "--trajectory",
                     cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(optviz.race("booth", ["adam"], steps=30).to_json(trajectory=True)) == json.loads(printed.stdout)


# ------------------------------------------------------------------------------------------------ save


@pytest.fixture(scope="module")
def small_race():
    return optviz.race("rosenbrock", ["adam", "sgd"], steps=12)


@pytest.mark.parametrize("suffix", FORMATS)
def test_save_writes_every_format_and_returns_its_path(small_race, tmp_path, suffix):
    out = tmp_path / f"race.{suffix}"
    written = small_race.save(out, size="320x240", frames=4, fps=8, hold=0.25, theme="dark", title="small")
    assert written == out
    head = out.read_bytes()[:512]  # an SVG opens with its XML declaration and doctype
    assert MAGIC[suffix] in head, head
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left beside it


def test_save_takes_the_size_as_a_pair_too(small_race, tmp_path):
    from PIL import Image

    small_race.save(tmp_path / "race.png", size=(400, 300))
    with Image.open(tmp_path / "race.png") as image:
        assert image.size == (400, 300)


# ------------------------------------------------------------------------------------------------ refusals


BAD_RENDER_OPTIONS = [
    ({"fps": 0}, "fps"), ({"fps": 51}, "fps"), ({"size": "10x10"}, "size"), ({"size": "big"}, "size"),
    ({"size": (100000, 100000)}, "size"), ({"theme": "sepia"}, "theme"), ({"hold": -1.0}, "hold"),
    ({"frames": 1}, "frames"), ({"speed": 2}, "speed"),
]


@pytest.mark.parametrize(("options", "parameter"), BAD_RENDER_OPTIONS, ids=[str(o) for o, _ in BAD_RENDER_OPTIONS])
def test_bad_render_options_raise_usage_error_naming_the_keyword(small_race, tmp_path, options, parameter):
    with pytest.raises(optviz.UsageError) as raised:
        small_race.save(tmp_path / "race.gif", **options)
    error = raised.value
    assert error.parameter == parameter
    assert str(error).startswith(f"{parameter}: ") and "--" not in str(error)
    assert error.cli_message().startswith(f"--{parameter}: ")
    assert list(tmp_path.iterdir()) == []


BAD_RACE_KEYWORDS = [
    ({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"), ({"steps": True}, "steps"), ({"steps": 10**9}, "steps"),
    ({"start": (1.0, 2.0, 3.0)}, "start"), ({"start": (1e9, 0.0)}, "start"), ({"start": (float("nan"), 0)}, "start"),
    ({"lr": -1.0}, "lr"), ({"lr": float("inf")}, "lr"), ({"lr": "fast"}, "lr"),
    ({"domain": (2.0, -2.0, -1.0, 3.0)}, "domain"), ({"domain": (0.0, 1.0, 2.0)}, "domain"),
    ({"domain": (-1.0, 1.0)}, "domain"),  # one interval for a 2-D function
]


@pytest.mark.parametrize(("keywords", "parameter"), BAD_RACE_KEYWORDS, ids=[str(k) for k, _ in BAD_RACE_KEYWORDS])
def test_bad_race_keywords_raise_usage_error_naming_the_keyword(keywords, parameter):
    with pytest.raises(optviz.UsageError) as raised:
        optviz.race("rosenbrock", ["adam"], **keywords)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(f"{parameter}: ")


# ------------------------------------------------------------------------------------------------ a fresh process


def test_the_issue_one_liner_writes_a_gif(tmp_path):
    done = python("-c", "import optviz; optviz.race('rosenbrock', ['adam', 'sgd']).save('r.gif')", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.gif").read_bytes()[:6] == b"GIF89a"


def test_import_and_stats_load_no_drawing_library(tmp_path):
    probe = ("import sys, optviz; optviz.race('rosenbrock', ['adam'], steps=5).stats; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'imageio', 'typer', 'rich')))")
    done = python("-c", probe, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_py_typed_is_shipped_as_package_data():
    import tomllib

    assert (ROOT / "optviz" / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["optviz"]


def test_public_names_have_docstrings():
    for name in optviz.__all__:
        if name != "__version__":
            assert getattr(optviz, name).__doc__, name


def test_a_race_reads_as_one_line(small_race):
    labels = ", ".join(run.label for run in small_race.runs)
    assert labels.startswith("adam lr=") and ", sgd lr=" in labels
    assert repr(small_race) == f"<optviz.Race rosenbrock: {labels}; 12 steps from 1 start(s)>"
    assert repr(small_race.show(theme="dark")) == f"<display of {small_race!r}>"
