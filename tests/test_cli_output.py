"""No traceback, nothing half-written: output paths, modes and links, full disks, the user's matplotlibrc, and
signals (Ctrl-C while modules load, SIGTERM while rendering)."""

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import optviz
from optviz.cli import app
from optviz.errors import UsageError

runner = CliRunner()
SMALL = ["--fn", "quadratic", "--opt", "adam(lr=0.1)", "--steps", "6", "--size", "320x240", "--quiet"]
PNG = b"\x89PNG"


def invoke(*args, **kwargs):
    return runner.invoke(app, ["race", *args], **kwargs)


def one_error_line(result, code=2):
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def run_optviz(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "optviz", *args], capture_output=True, text=True, timeout=300,
                          **kwargs)


# ------------------------------------------------------------------------------------------------ output paths


def test_an_existing_folder_is_named_as_a_folder(tmp_path):
    line = one_error_line(invoke(*SMALL, "-o", str(tmp_path)), code=1)
    assert "is a folder" in line and "extension" not in line


def test_an_empty_output_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(invoke(*SMALL, "-o", ""))
    assert line.startswith("error: --out:") and "empty" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, words", [("nodir/", ["names a folder", "nodir/race.gif"]),
                                         (".gif", ["hidden name", ".gif"]), ("race", ["no extension"])])
def test_names_that_are_not_files_are_explained(tmp_path, monkeypatch, name, words):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(invoke(*SMALL, "-o", name))
    assert line.startswith("error: --out:") and all(word in line for word in words)
    assert list(tmp_path.iterdir()) == []


def test_a_quoted_tilde_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = invoke(*SMALL, "-o", "~/x.png")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "x.png").read_bytes().startswith(PNG)
    assert not Path("~").exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_replacing_a_file_keeps_its_mode(tmp_path):
    out = tmp_path / "race.png"
    out.write_bytes(b"old")
    out.chmod(0o640)
    assert invoke(*SMALL, "-o", str(out)).exit_code == 0
    assert out.read_bytes().startswith(PNG)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_symbolic_link_stays_and_its_target_is_replaced(tmp_path):
    (tmp_path / "site").mkdir()
    target = tmp_path / "site" / "race.png"
    target.write_bytes(b"old")
    target.chmod(0o604)
    link = tmp_path / "race.png"
    link.symlink_to(target)
    assert invoke(*SMALL, "-o", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(PNG) and stat.S_IMODE(target.stat().st_mode) == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.png", "site"]
    assert [p.name for p in target.parent.iterdir()] == ["race.png"]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_dangling_symbolic_link_creates_its_target(tmp_path):
    link = tmp_path / "race.png"
    link.symlink_to(tmp_path / "made.png")
    assert invoke(*SMALL, "-o", str(link)).exit_code == 0
    assert link.is_symlink() and (tmp_path / "made.png").read_bytes().startswith(PNG)


def test_trajectory_without_json_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(invoke(*SMALL, "--trajectory"))
    assert "--trajectory" in line and "--json" in line
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ frame rates


@pytest.mark.parametrize("suffix, fps", [(".gif", "0.001"), (".gif", "0.09"), (".gif", "51"), (".mp4", "0.0001"),
                                         (".mp4", "121"), (".html", "0.05")])
def test_fps_outside_the_formats_range_is_one_line(tmp_path, suffix, fps):
    line = one_error_line(invoke(*SMALL, "-o", str(tmp_path / f"race{suffix}"), "--fps", fps))
    assert line.startswith("error: --fps:") and "0.1" in line
    assert list(tmp_path.iterdir()) == []


def test_help_states_the_fps_ranges():
    help_text = runner.invoke(app, ["race", "--help"], env={"COLUMNS": "250"}).stdout
    assert "0.1 to 50 for a GIF" in help_text and "to 120 for MP4" in help_text


@pytest.mark.parametrize("options", [{"fps": 0.01}, {"fps": 200}, {"hold": -1}, {"size": "10x10"},
                                     {"frames": 1}, {"theme": "neon"}])
def test_the_api_refuses_render_options_with_the_message_the_cli_prints(tmp_path, options):
    race = optviz.race("quadratic", ["adam(lr=0.1)"], steps=6)
    with pytest.raises(UsageError) as raised:
        race.save(tmp_path / "race.gif", **options)
    (name, value), = options.items()
    line = one_error_line(invoke(*SMALL, "-o", str(tmp_path / "race.gif"), f"--{name}", str(value)))
    assert raised.value.parameter == name
    assert line == f"error: {raised.value.cli_message()}"
    assert str(raised.value) == f"{name}: {raised.value.message}"
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ full disks


class FullDiskPdfScene:
    """A scene whose still is written by a writer that meets a full disk the way matplotlib's PDF backend does:
    the OSError, then zlib's own error while it tidies up."""

    def __init__(self, *args, **kwargs):
        pass

    def save_still(self, path, step):
        with open(path, "wb") as file:
            file.write(b"%PDF-1.4")
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            raise zlib.error("Error -2 while flushing: inconsistent stream state")

    def close(self):
        pass


def test_a_pdf_on_a_full_disk_is_one_line_and_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr("optviz.render.scene.RaceScene", FullDiskPdfScene)
    out = tmp_path / "race.pdf"
    line = one_error_line(invoke(*SMALL, "-o", str(out)), code=1)
    assert line == f"error: cannot write '{out}': {os.strerror(errno.ENOSPC)}"
    assert list(tmp_path.iterdir()) == []


def test_an_unrelated_library_error_is_not_passed_off_as_a_write_error(tmp_path, monkeypatch):
    class Broken(FullDiskPdfScene):
        def save_still(self, path, step):
            raise zlib.error("not about the disk")

    monkeypatch.setattr("optviz.render.scene.RaceScene", Broken)
    race = optviz.race("quadratic", ["adam(lr=0.1)"], steps=6)
    with pytest.raises(zlib.error):
        race.save(tmp_path / "race.pdf")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ the user's rc


def test_renders_ignore_the_users_matplotlibrc(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "matplotlibrc").write_text("text.usetex: True\nfont.family: fantasy\nlines.linewidth: 30\n")
    out = tmp_path / "race.png"
    env = {**os.environ, "MATPLOTLIBRC": str(config), "MPLCONFIGDIR": str(tmp_path / "cache")}
    result = run_optviz("race", *SMALL, "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG)
    plain = tmp_path / "plain.png"
    assert run_optviz("race", *SMALL, "-o", str(plain)).returncode == 0
    assert out.read_bytes() == plain.read_bytes()


def test_the_users_settings_are_back_after_a_render(tmp_path):
    import matplotlib

    race = optviz.race("quadratic", ["adam(lr=0.1)"], steps=6)
    with matplotlib.rc_context({"lines.linewidth": 7.5, "axes.facecolor": "pink"}):
        race.save(tmp_path / "race.png", size=(320, 240))
        assert matplotlib.rcParams["lines.linewidth"] == 7.5 and matplotlib.rcParams["axes.facecolor"] == "pink"


# ------------------------------------------------------------------------------------------------ signals


INTERRUPT_WHILE_IMPORTING = textwrap.dedent("""
    import os, signal, sys

    class Interrupt:
        def find_spec(self, name, path=None, target=None):
            if name == {module!r}:
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, Interrupt())
    sys.argv = ["optviz", "stats", "--steps", "5"]
    from optviz.cli import main
    main()
""")


@pytest.mark.parametrize("module", ["numpy", "typer", "rich"])
def test_ctrl_c_while_modules_load_is_one_line_and_exit_130(module):
    result = subprocess.run([sys.executable, "-c", INTERRUPT_WHILE_IMPORTING.format(module=module)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines() == ["error: interrupted"]
    assert result.stdout == ""


def test_importing_optviz_loads_nothing_heavy_until_used():
    probe = ("import sys, optviz\n"
             "print(sorted(m for m in ('numpy', 'typer', 'rich') if m in sys.modules))\n"
             "optviz.race\n"
             "print('numpy' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stderr


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM")
def test_sigterm_while_rendering_cleans_up_like_ctrl_c(tmp_path):
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
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert stderr.strip().splitlines() == ["error: terminated"] and stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]
    assert out.read_bytes() == b"the previous race"
