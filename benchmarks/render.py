"""Render benchmark: `optviz race` against the tutorial FuncAnimation script, whole processes, GIF and MP4.

Both draw the baseline kit's scene (../shared/bench/common.py): Rosenbrock from (-1.5, 2), four optimisers
(sgd lr 1e-3; momentum lr 5e-4; rmsprop lr 1e-2; adam lr 0.05), 300 steps, 800x600 px at 30 fps. The tutorial shows
steps 1..300 (300 frames), optviz steps 0..300 (301 frames). Runs alternate ours and theirs, so a slow spell on the
machine hits both; each is one child process, timed by wall clock, its peak resident memory (its own or any of its
children's, such as ffmpeg, whichever is larger) read from os.wait4.

    python benchmarks/render.py                   # 3 runs of each, GIF and MP4
    python benchmarks/render.py --quick           # 1 run of each
    python benchmarks/render.py --outdir /tmp/b   # keep the files (default: a temporary folder, deleted)

Targets, as ours / theirs (medians): GIF time <= 0.08 and size <= 0.4; MP4 time <= 0.1; peak memory <= 0.5.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KIT = REPO.parent / "shared" / "bench"
OPTIMISERS = "sgd(lr=1e-3),momentum(lr=5e-4),rmsprop(lr=1e-2),adam(lr=0.05)"
FORMATS = ("gif", "mp4")
# (format, measure) -> largest allowed ours / theirs
TARGETS = {("gif", "time"): 0.08, ("gif", "size"): 0.4, ("mp4", "time"): 0.1,
           ("gif", "memory"): 0.5, ("mp4", "memory"): 0.5}


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_bytes: int
    file_bytes: int


def ours_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "optviz", "race", "--fn", "rosenbrock", "--start=-1.5,2", "--steps", "300",
            "--opt", OPTIMISERS, "--size", "800x600", "--fps", "30", "--hold", "0", "-o", str(out), "--quiet"]


def theirs_command(kit: Path, fmt: str, outdir: Path) -> list[str]:
    return [sys.executable, str(kit / "peer_funcanim.py"), "--out", fmt, "--outdir", str(outdir)]


def run_child(command: list[str], out: Path, cwd: Path) -> Run:
    """Run one process to the end; its wall time, peak RSS and the size of the file it wrote."""
    out.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}  # the kit folder is read-only
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keeps Popen from waiting again
    if child.returncode != 0 or not out.is_file():
        raise SystemExit(f"{' '.join(command)}\nfailed ({child.returncode}):\n{stderr.decode(errors='replace')}")
    return Run(seconds, usage.ru_maxrss * 1024, out.stat().st_size)  # ru_maxrss is in KiB on Linux


def measure(fmt: str, repeats: int, kit: Path, outdir: Path) -> tuple[list[Run], list[Run]]:
    ours_out = outdir / f"optviz.{fmt}"
    theirs_dir = outdir / "peer"
    theirs_dir.mkdir(exist_ok=True)
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(run_child(ours_command(ours_out), ours_out, REPO))
        theirs.append(run_child(theirs_command(kit, fmt, theirs_dir), theirs_dir / f"peer_numpy.{fmt}", kit))
    return ours, theirs


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def report(results: dict[str, tuple[list[Run], list[Run]]]) -> bool:
    """Print the table and the ratios against the targets; True when every target is met."""
    measures = {"time": ("seconds", lambda v: f"{v:8.2f} s"), "size": ("file_bytes", lambda v: f"{v / 1e3:7.0f} KB"),
                "memory": ("peak_bytes", lambda v: f"{v / 1e6:7.0f} MB")}
    print(f"{'':5s} {'measure':7s} {'optviz':>11s} {'tutorial':>11s} {'ratio':>7s}  target")
    all_met = True
    for fmt, (ours, theirs) in results.items():
        for name, (field, shown) in measures.items():
            ratio = median(ours, field) / median(theirs, field)
            target = TARGETS.get((fmt, name))
            verdict = "" if target is None else f"<= {target:<5} {'met' if ratio <= target else 'MISSED'}"
            all_met &= target is None or ratio <= target
            print(f"{fmt:5s} {name:7s} {shown(median(ours, field)):>11s} {shown(median(theirs, field)):>11s} "
                  f"{ratio:7.3f}  {verdict}")
        times = " ".join(f"{run.seconds:.2f}" for run in ours)
        print(f"{'':5s} optviz runs: {times} s; tutorial runs: {' '.join(f'{run.seconds:.2f}' for run in theirs)} s")
    return all_met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kit", type=Path, default=KIT, help=f"the baseline kit folder (default {KIT})")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each program per format (median)")
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--outdir", type=Path, help="keep the outputs here (default: a temporary folder)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma list of gif, mp4")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    formats = [fmt for fmt in args.formats.split(",") if fmt]

    with tempfile.TemporaryDirectory(prefix="optviz-bench-") as scratch:
        outdir = args.outdir or Path(scratch)
        outdir.mkdir(parents=True, exist_ok=True)
        print(f"{repeats} run(s) of each, alternating; outputs in {outdir}; {os.cpu_count()} CPUs", flush=True)
        results = {fmt: measure(fmt, repeats, args.kit.resolve(), outdir) for fmt in formats}
        met = report(results)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
