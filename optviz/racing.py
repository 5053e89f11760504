"""A race: every optimiser resolved into one `Run`, learning rates chosen, every trajectory computed.

A raced optimiser is one frozen object from parse to JSON: `resolve_runs` turns parsed calls into Runs (every
hyperparameter filled, schedule and clipping attached), `choose_runs` tunes lr where none was given (with
`dataclasses.replace`) and labels them, and the engine steps `run.transform(steps)`. Nothing is drawn here.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optviz import engine
from optviz.clipping import Clipping, clipped
from optviz.engine import EXACT, Gradients, Progress, Trajectories
from optviz.errors import UsageError
from optviz.functions import TestFunction
from optviz.optimizers import OptimizerDef, Transform
from optviz.plugins import BUILT_IN, Found, find_optimizer
from optviz.schedules import Schedule, parse_schedule, resolve_schedule, scheduled
from optviz.specs import TORCH_SWITCHES, OptimizerCall, format_value, show_value
from optviz.tuning import tune_learning_rate, tuning_work

LR_SOURCES = ("user", "tuned", "default")  # given (in the spec or by --lr), chosen by optviz.tuning, or torch's
_SHOWN_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Run:
    """One optimiser as raced, echoed into the JSON so any run can be reproduced.

    label: unique within the race, showing every setting that differs from the optimiser's defaults;
    optimizer: the registry name or the import path; params: every hyperparameter (defaults included);
    lr_source: one of LR_SOURCES; source: where the definition came from ("built-in", "import path",
    "entry point ..."); schedule and clip: None unless asked for.
    """

    label: str
    optimizer: str
    params: Mapping[str, Any]
    lr_source: str
    definition: OptimizerDef | None = field(default=None, repr=False, compare=False)  # None: looked up by name
    source: str = BUILT_IN
    schedule: Schedule | None = None
    clip: Clipping | None = None

    def __post_init__(self) -> None:
        if self.lr_source not in LR_SOURCES:
            raise ValueError(f"lr_source must be one of {LR_SOURCES} (got {self.lr_source!r})")
        if self.definition is None:
            found = find_optimizer(self.optimizer)
            object.__setattr__(self, "definition", found.definition)
            object.__setattr__(self, "source", found.source)

    def transform(self, steps: int, params: Mapping[str, Any] | None = None) -> Transform:
        """The transform the engine steps: the optimiser, scheduled and clipped as asked (`params` overrides)."""
        params = self.params if params is None else params
        if self.schedule is None:
            transform = self.definition.build(params)
        else:
            transform = scheduled(self.definition.build, params, self.schedule, steps)
        return transform if self.clip is None else clipped(transform, self.clip)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "optimizer": self.optimizer,
            "source": self.source,
            "params": dict(self.params),
            "lr_source": self.lr_source,
            "schedule": None if self.schedule is None else self.schedule.to_json(),
            "clip": None if self.clip is None else self.clip.to_json(),
        }


# --------------------------------------------------------------------------- resolution

_RUN_KEYWORDS = ("schedule",)  # keywords of a run, not of its optimiser


def resolve_runs(calls: Sequence[OptimizerCall], *, lr: float | None = None, schedule: Schedule | None = None,
                 clip: Clipping | None = None) -> tuple[Run, ...]:
    """Each parsed call as a Run: looked up (registry, entry point or import path), every hyperparameter filled
    and checked, `lr` wherever the call names none, `schedule` wherever it names none, `clip` for all."""
    runs = []
    for call in calls:
        found = _find(call)
        given = {key: value for key, value in call.kwargs.items()
                 if key not in _RUN_KEYWORDS and not (found.source == BUILT_IN and key in TORCH_SWITCHES)}
        _check_switches(call, found.source)
        lr_source = "user" if "lr" in given else "default"
        if lr is not None and "lr" not in given and _has_lr(found.definition):
            given["lr"], lr_source = lr, "user"
        try:
            params = found.definition.resolve(given)
        except UsageError as error:  # the registry quotes the value it refuses; a long tuple makes a long message
            raise UsageError(f"bad --opt {_quote(call.text)}: {_shorten(str(error))}") from error
        own_schedule = _schedule(call)
        runs.append(Run(label=found.definition.name, optimizer=found.name, params=params, lr_source=lr_source,
                        definition=found.definition, source=found.source,
                        schedule=own_schedule if own_schedule is not None else schedule, clip=clip))
    return label_runs(runs)


def _find(call: OptimizerCall) -> Found:
    try:
        return find_optimizer(call.name)
    except UsageError as error:
        if call.text == call.name:
            raise
        raise UsageError(f"bad --opt {_quote(call.text)}: {_shorten(str(error))}") from error


def _has_lr(definition: OptimizerDef) -> bool:
    return any(h.name == "lr" for h in definition.hyperparameters)


def _check_switches(call: OptimizerCall, source: str) -> None:
    if source != BUILT_IN:
        return
    for key in TORCH_SWITCHES.intersection(call.kwargs):
        if not (call.kwargs[key] is None or isinstance(call.kwargs[key], bool)):
            raise UsageError(f"bad --opt {_quote(call.text)}: {key} must be true, false or none "
                             f"(got {format_value(call.kwargs[key])})")


def _schedule(call: OptimizerCall) -> Schedule | None:
    """`schedule=cosine(T_max=100)` (or the same in quotes) inside one optimiser's call."""
    if "schedule" not in call.kwargs:
        return None
    value = call.kwargs["schedule"]
    try:
        if isinstance(value, OptimizerCall):
            return resolve_schedule(value.name, value.kwargs)
        if isinstance(value, str):
            return parse_schedule(value)
    except UsageError as error:
        raise UsageError(f"bad --opt {_quote(call.text)}: schedule: {_shorten(error.message)}") from error
    raise UsageError(f"bad --opt {_quote(call.text)}: schedule must be a schedule such as cosine(T_max=100) "
                     f"(got {format_value(value)})")


def _quote(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN_MESSAGE_CHARS else text[: _SHOWN_MESSAGE_CHARS - 3] + "..."


# --------------------------------------------------------------------------- labels


def label_runs(runs: Sequence[Run]) -> tuple[Run, ...]:
    """Label every run by what sets it apart from its optimiser's defaults (and by any lr not torch's default,
    even one equal to it); identical runs get ` #2`, ` #3`.

    Numbers are shown with 3 significant digits; where different runs would read alike, exactly.
    """
    short = [_label(run, digits=3) for run in runs]
    groups: dict[str, list[Run]] = {}
    for run, label in zip(runs, short):
        groups.setdefault(label, []).append(run)
    labels = [label if all(_same_run(run, other) for other in groups[label]) else _label(run, digits=None)
              for run, label in zip(runs, short)]
    seen: Counter[str] = Counter()
    out = []
    for run, label in zip(runs, labels):
        seen[label] += 1
        out.append(dataclasses.replace(run, label=label if seen[label] == 1 else f"{label} #{seen[label]}"))
    return tuple(out)


def _same_run(a: Run, b: Run) -> bool:
    return (a.definition.name, a.optimizer, a.lr_source, a.schedule, a.clip) == \
        (b.definition.name, b.optimizer, b.lr_source, b.schedule, b.clip) and dict(a.params) == dict(b.params)


def _label(run: Run, digits: int | None) -> str:
    """`sgd lr=0.001, momentum=0.9`, `adam lr=0.0316 (tuned)`, `adam lr=0.1, schedule=cosine(T_max=100)`."""
    settings = []
    for h in run.definition.hyperparameters:
        value = run.params.get(h.name, h.default)
        if h.name == "lr" and run.lr_source == "tuned":
            settings.append(f"lr={show_value(value, digits)} (tuned)")
        elif not _same(value, h.default) or (h.name == "lr" and run.lr_source == "user"):
            settings.append(f"{h.name}={show_value(value, digits)}")
    if run.schedule is not None:
        settings.append(f"schedule={run.schedule.label()}")
    if run.clip is not None:
        settings.append(run.clip.label())
    return f"{run.definition.name} {', '.join(settings)}" if settings else run.definition.name


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default or (
        isinstance(value, int | float) and not isinstance(value, bool)
        and isinstance(default, int | float) and not isinstance(default, bool) and float(value) == float(default))


@dataclass(frozen=True)
class Race:
    """A computed race: what `optviz.race(...)` returns. Nothing is drawn until `save`, `show` or display.

    trajectories.positions: (kept, runs, starts, d) float64, d = function.dimensions, in the order of `runs`, at
    the steps trajectories.steps_kept (every step unless the race was run lean, as `optviz stats` runs it);
    trajectories.losses: (kept, runs, starts); trajectories.diverged_step: (runs, starts), -1 = never.
    """

    function: TestFunction
    runs: tuple[Run, ...]
    starts: np.ndarray  # (starts, d)
    steps: int
    trajectories: Trajectories  # runs in the order of `runs`
    gradients: Gradients = EXACT  # noise, batch size and seed of the gradients the optimisers saw
    starts_spec: str | None = None  # what spread the starts ("grid:8x8", "random:100"), None when given as points

    @property
    def stats(self) -> dict[str, Any]:
        """The document `optviz stats` prints for the same arguments (strict JSON values)."""
        from optviz.stats import race_document

        return race_document(self)

    def to_json(self, trajectory: bool = False) -> str:
        """`stats` as strict JSON text; with `trajectory`, every step's coordinates and loss per run."""
        from optviz.stats import race_document, to_json

        return to_json(race_document(self, include_trajectory=trajectory))

    def save(self, path: str | Path, **render_options: Any) -> Path:
        """Write the race to `path` (.gif, .mp4, .html, .png, .svg, .pdf); options as the CLI's: frames, fps,
        hold, size ("1280x720" or (1280, 720)), theme, title. Returns the path written."""
        from optviz.render import render_race

        return render_race(self, render_spec(path, render_options))

    def show(self, **render_options: Any) -> _Display:
        """An inline display with render options, for a notebook cell: `race.show(theme="dark")`."""
        return _Display(self, render_options)

    def _repr_html_(self) -> str:
        from optviz.render.html import notebook_html

        return notebook_html(self)

    def __repr__(self) -> str:
        """A line, not every array: what a terminal or a notebook's text/plain output shows."""
        labels = ", ".join(run.label for run in self.runs)
        return f"<optviz.Race {self.function.name}: {labels}; {self.steps} steps from {len(self.starts)} start(s)>"


def render_spec(path: str | Path, options: Mapping[str, Any]):
    """A RenderSpec from API keywords: the CLI's render options by name, size as "WxH" or (width, height)."""
    from optviz.render.spec import RenderSpec
    from optviz.specs import parse_size

    known = {field.name for field in dataclasses.fields(RenderSpec)} - {"out"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(f"unknown render option '{unknown[0]}' (valid: {', '.join(sorted(known))})",
                         parameter=unknown[0])
    if not str(path).strip():
        raise UsageError("is empty: give a file name such as race.gif", parameter="out")
    if str(path).endswith(("/", os.sep)):
        raise UsageError(f"'{path}' names a folder: give a file name such as '{Path(path) / 'race.gif'}'",
                         parameter="out")
    values = dict(options)
    if isinstance(values.get("size"), str):
        values["size"] = parse_size(values["size"])
    return RenderSpec(out=Path(path).expanduser(), **values)


@dataclass(frozen=True)
class _Display:
    race: Race
    options: Mapping[str, Any]

    def _repr_html_(self) -> str:
        from optviz.render.html import notebook_html

        return notebook_html(self.race, **self.options)

    def __repr__(self) -> str:
        return f"<display of {self.race!r}>"


def choose_runs(function: TestFunction, runs: Sequence[Run], starts: np.ndarray, steps: int, tune: bool,
                gradients: Gradients = EXACT, progress: Callable[[int], None] | None = None) -> tuple[Run, ...]:
    """Tune lr where the user gave none (lr_source "default" becomes "tuned"), then label: a label shows the lr
    that was actually raced. A schedule that sets lr itself (onecycle's max_lr) leaves nothing to tune."""
    chosen = []
    for run in runs:
        if tune and _tunable(run):
            lr = tune_learning_rate(function, _AsRaced(run, steps), run.params, starts, steps, gradients,
                                    progress)
            run = dataclasses.replace(run, params={**run.params, "lr": lr}, lr_source="tuned")
        chosen.append(run)
    return label_runs(chosen)


def _tunable(run: Run) -> bool:
    """Whether the tuner chooses this run's lr: none was given, the optimiser is one whose lr is tuned (not L-BFGS
    or Newton, whose natural step is lr 1), and no schedule sets lr itself."""
    return (run.lr_source == "default" and run.definition.tune_lr and "lr" in run.params
            and (run.schedule is None or run.schedule.uses_base_lr))


@dataclass(frozen=True)
class _AsRaced:
    """What the tuner builds its candidates from (it calls `build(params)` with lr an array (B, 1)): the run's
    transform for this budget, its schedule and clipping included, so the lr is tuned for what is raced."""

    run: Run
    steps: int

    def build(self, params: Mapping[str, Any]) -> Transform:
        return self.run.transform(self.steps, params)


def run_race(
    function: TestFunction, runs: Sequence[Run], starts: Sequence[Sequence[float]], steps: int,
    tune: bool = True, *, gradients: Gradients = EXACT, record_every: int | None = 1,
    progress: Progress | None = None, starts_spec: str | None = None,
) -> Race:
    """Choose learning rates, then step every optimiser from every start. `progress(done, total)` counts
    point-steps of the tuning and the race together."""
    start_array = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    gradients = gradients.check(function)
    tuned = sum(1 for run in runs if tune and _tunable(run))
    total = tuned * tuning_work(len(start_array), steps) + len(runs) * len(start_array) * steps
    done, lock = [0], threading.Lock()

    def advance(point_steps: int) -> None:
        with lock:
            done[0] += point_steps
            progress(done[0], total)

    counted = advance if progress is not None else None
    raced = choose_runs(function, runs, start_array, steps, tune, gradients, counted)
    offset = done[0]
    trajectories = engine.run(
        function, [run.transform(steps) for run in raced], start_array, steps, gradients=gradients,
        record_every=record_every,
        progress=None if progress is None else lambda so_far, _: progress(offset + so_far, total))
    return Race(function, raced, start_array, steps, trajectories, gradients, starts_spec)
