"""The words and numbers on the picture and the page: the title, each run's legend entry, and how a result
reads (`show_number`). Pure string work, no matplotlib."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optviz.functions import TestFunction
    from optviz.racing import Race

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def pretty_formula(formula: str) -> str:
    """Integer powers as superscripts and the real minus sign for every minus: "(1 - x)^2" -> "(1 − x)²"."""
    powered = re.sub(r"(?:\^|\*\*)(\d+)", lambda m: m.group(1).translate(_SUPERSCRIPTS), formula)
    return re.sub(r"\bpi\b", "π", powered).replace("-", "−")


def default_title(function: TestFunction) -> str:
    """The function's own title if it has one, else its name in sentence case and its formula:
    "Rosenbrock: (1 − x)² + 100 (y − x²)²", "Monkey saddle: x³ − 3 x y²"."""
    if function.title:
        return function.title
    words = function.name.replace("_", " ").replace("-", " ")
    name = words[:1].upper() + words[1:]
    return f"{name}: {pretty_formula(function.formula)}" if function.formula else name


def race_title(race: Race) -> str:
    """The default title of a race: the function's, then what the optimisers' gradients were when they were not
    exact ("minibatches of 4 of 64 points, seed 0", "gradient noise σ = 0.5, seed 0"); the picture always draws
    the full-batch, noise-free landscape."""
    gradients = race.gradients
    notes = []
    if gradients.batch_size is not None and race.function.dataset is not None:
        notes.append(f"minibatches of {gradients.batch_size} of {race.function.dataset.size} points")
    if gradients.noise:
        notes.append(f"gradient noise σ = {gradients.noise:g}")
    if notes:
        notes.append(f"seed {gradients.seed}")
    title = default_title(race.function)
    return f"{title} · {', '.join(notes)}" if notes else title


def divergence_note(diverged_step: np.ndarray, step: int) -> str:
    """What a run's legend entry adds once some of its starts have diverged by `step` (diverged_step: (S,))."""
    hit = (diverged_step >= 0) & (diverged_step <= step)
    if not hit.any():
        return ""
    first = int(diverged_step[hit].min())
    if diverged_step.size == 1:
        return f"diverged at step {first}"
    return f"{int(hit.sum())} of {diverged_step.size} diverged, first at step {first}"


def legend_labels(race: Race, step: int) -> tuple[str, ...]:
    """Each run's legend entry as it reads at `step`: its label (the same text as in the JSON), then any note."""
    labels = []
    for run, diverged in zip(race.runs, race.trajectories.diverged_step):
        note = divergence_note(diverged, step)
        labels.append(f"{run.label}\n{note}" if note else run.label)
    return tuple(labels)


def show_number(value: float) -> str:
    """A readout value: three significant digits, kept when they are zeros so a column reads alike ("4.50"), in
    scientific notation outside [0.001, 1000) ("2.92e−4"), with the real minus sign; "–" for none."""
    if not np.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    text = f"{value:#.3g}".rstrip(".") if 1e-3 <= abs(value) < 1e3 else ""
    if not text or "e" in text:  # also 999.7, which rounds up to 1.00e+03
        mantissa, exponent = f"{value:.2e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")
