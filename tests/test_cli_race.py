"""`optviz race` end to end: files written and re-read, stdout JSON, refusals before work, Ctrl-C safety."""

import json
import os
import signal
import subprocess
import sys
import time

import imageio_ffmpeg
import pytest
from PIL import Image
from typer.testing import CliRunner

from optviz.cli import app

runner = CliRunner()
RACE = ["--fn", "quadratic", "--opt", "adam(lr=0.1),sgd(lr=0.01)", "--steps", "24"]
SMALL = [*RACE, "--size", "320x240"]


def invoke(*args):
    return runner.invoke(app, ["race", *args])


def strict_json(text):
    def refuse(token):
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_gif_with_json_on_stdout_matches_stats(tmp_path):
    out = tmp_path / "race.gif"
    result = invoke(*SMALL, "-o", str(out), "--fps", "20", "--hold", "0.5", "--json", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    stats = runner.invoke(app, ["stats", *RACE])
    assert strict_json(result.stdout) == strict_json(stats.stdout)
    with Image.open(out) as gif:
        assert gif.size == (320, 240) and gif.n_frames == 25 and gif.info["loop"] == 0
        durations = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
    assert durations[:-1] == [50] * 24 and durations[-1] == 50 + 500


def test_default_output_is_named_after_the_function_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*SMALL)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "quadratic-race.gif").stat().st_size > 0
    assert "quadratic-race.gif" in result.stderr and result.stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["quadratic-race.gif"]


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_stills(tmp_path, suffix, magic):
    out = tmp_path / f"still{suffix}"
    result = invoke(*SMALL, "-o", str(out), "--theme", "dark", "--title", "A still", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(magic)


REFUSED = [
    (["-o", "race.bmp"], ".gif"),
    (["--fps", "0"], "fps"),
    (["--fps", "-3"], "fps"),
    (["--size", "10x10"], "size"),
    (["--size", "1280"], "size"),
    (["--size", "100000x100000"], "size"),
    (["--frames", "1"], "frames"),
    (["--frames", "10000000"], "frames"),
    (["--hold", "-1"], "hold"),
    (["--theme", "neon"], "theme"),
    (["--opt", "adam(lr=oops)"], "--opt"),
]


@pytest.mark.parametrize("extra, named", REFUSED, ids=[" ".join(e) for e, _ in REFUSED])
def test_bad_race_options_are_refused_before_any_work(tmp_path, monkeypatch, extra, named):
    def no_stepping(*args, **kwargs):
        raise AssertionError("refused only after stepping")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("optviz.api.run_race", no_stepping)
    monkeypatch.setattr("optviz.racing.tune_learning_rate", no_stepping)
    monkeypatch.setattr("optviz.engine.run", no_stepping)
    result = invoke("--fn", "rosenbrock", "--steps", "5000", *extra)
    assert result.exit_code == 2, (result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and named in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_missing_output_folder_is_refused_with_exit_1(tmp_path):
    result = invoke(*SMALL, "-o", str(tmp_path / "nowhere" / "race.gif"))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "nowhere" in result.stderr


def run_optviz(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "optviz", *args], capture_output=True, text=True, timeout=300,
                          **kwargs)


def test_real_subprocess_writes_a_playable_mp4(tmp_path):
    out = tmp_path / "race.mp4"
    result = run_optviz("race", *SMALL, "--size", "321x241", "-o", str(out), "--hold", "0")
    assert result.returncode == 0, result.stderr
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    reader.close()
    assert meta["codec"].startswith("h264") and meta["pix_fmt"].startswith("yuv420p")
    assert tuple(meta["size"]) == (322, 242)
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 25


def test_ctrl_c_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    out = tmp_path / "race.gif"
    out.write_bytes(b"the previous race")
    process = subprocess.Popen(
        [sys.executable, "-m", "optviz", "race", "--fn", "rosenbrock", "--steps", "3000", "--frames", "3000",
         "--size", "1280x720", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".") for p in tmp_path.iterdir()):  # the hidden temporary file appears
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip().splitlines() == ["error: interrupted"] and "Traceback" not in stderr
    assert stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]
    assert out.read_bytes() == b"the previous race"


def test_same_command_twice_gives_identical_bytes(tmp_path):
    for name in ("a.gif", "b.gif"):
        assert invoke(*SMALL, "-o", str(tmp_path / name), "--quiet").exit_code == 0
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_written_file_has_ordinary_permissions(tmp_path):
    out = tmp_path / "race.png"
    assert invoke(*SMALL, "-o", str(out), "--quiet").exit_code == 0
    assert out.stat().st_mode & 0o644 == 0o644


def test_an_expression_is_written_under_a_safe_default_name_with_its_own_title(tmp_path, monkeypatch):
    from optviz.api import resolve_function
    from optviz.render.labels import default_title

    monkeypatch.chdir(tmp_path)
    formula = "sin(x)*cos(y) + 0.1*(x^2 + y^2) / 2"
    result = invoke("--fn", formula, "--steps", "10", "--opt", "adam", "--size", "320x240", "--domain=-3,3,-3,3",
                    "--quiet")
    assert result.exit_code == 0, result.stderr
    (written,) = tmp_path.iterdir()
    function = resolve_function(formula)
    assert written.name == f"{function.output_stem}-race.gif"
    assert not set(written.name) & set("/\\*?<>|:\" ^()") and written.stat().st_size > 0
    assert default_title(function) == function.title and "x²" in function.title
