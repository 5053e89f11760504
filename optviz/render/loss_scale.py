"""What the loss panel plots and over which y range. Pure numpy, no matplotlib."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LossScale:
    """What the loss panel plots: values (T+1, R, S), log or linear y, fixed y-limits, the y label."""

    values: np.ndarray
    log: bool
    ylim: tuple[float, float]
    label: str


LOG_MIN_DECADES = 2.0  # a log axis only when the plotted values span at least this many decades
GAP_RESOLUTION = 1e-16  # gaps below this times (1 + |f_min|) are rounding noise, drawn at that floor


def loss_scale(losses: np.ndarray, f_min: float | None, in_view: np.ndarray) -> LossScale:
    """Plot the gap f - f_min when f_min is known, f otherwise; log y when the gap spans decades.

    The limits (and the choice of scale) come from the losses while the trajectory is in the view: a run that
    leaves it (diverging towards 1e24, or sliding off a saddle towards -1e12) leaves the panel as its trail
    leaves the landscape, rather than squashing every other curve flat. If nothing is ever in view, all count.
    """
    values = np.where(np.isfinite(losses), losses, np.nan)
    label = "f(x, y)"
    if f_min is not None:
        values = np.clip(values - f_min, GAP_RESOLUTION * (1 + abs(f_min)), None)
        label = "f − f*"
    finite = np.isfinite(values)
    shown = values[in_view & finite]
    if shown.size == 0:
        shown = values[finite]
    if shown.size == 0:
        return LossScale(values, False, (0.0, 1.0), label)
    low, high = float(shown.min()), float(shown.max())
    if f_min is not None and np.log10(high / low) >= LOG_MIN_DECADES:
        pad = 10 ** (0.05 * np.log10(high / low))
        return LossScale(values, True, (low / pad, high * pad), label)
    pad = 0.05 * (high - low) if high > low else 0.5 * max(1.0, abs(low))
    return LossScale(values, False, (low - pad, high + pad), label)
