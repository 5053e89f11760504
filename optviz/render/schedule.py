"""Which optimiser step each animation frame shows. Pure numpy: importing this never imports matplotlib.

n frames over steps 0..T are evenly spaced and rounded half up,

    step_i = floor(i T / (n - 1) + 1/2),   i = 0 .. n - 1,

so the first frame is step 0, the last is step T, and the sequence is strictly increasing whenever
n <= T + 1 (consecutive exact positions are at least 1 apart, and x -> floor(x + 1/2) never maps two
points 1 or more apart to the same integer).
"""

from __future__ import annotations

import numpy as np

from optviz.errors import UsageError

DEFAULT_FRAME_CAP = 600  # 20 s at 30 fps; a longer race is sampled rather than shown step by step


def frame_schedule(steps: int, frames: int | None, cap: int = DEFAULT_FRAME_CAP) -> np.ndarray:
    """Step index shown by each frame: evenly sampled, strictly increasing, first 0 and last `steps`; every step
    when frames is None and steps+1 <= cap, else `frames` (or cap) frames.

    A request for more frames than there are steps (frames > steps + 1) gets every step once: a frame per
    step is the most a race can show without repeating pictures.
    """
    if steps < 0:
        raise UsageError(f"steps must be >= 0 (got {steps})")
    if cap < 2:
        raise UsageError(f"frame cap must be >= 2 (got {cap})")
    if frames is not None and frames < 2 and steps > 0:
        raise UsageError(f"frames must be >= 2 to show the start and the end (got {frames})")
    wanted = min(steps + 1, cap) if frames is None else frames
    count = min(wanted, steps + 1)
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    exact = np.arange(count) * (steps / (count - 1))
    schedule = np.floor(exact + 0.5).astype(np.int64)
    schedule[-1] = steps  # exact, whatever the rounding of the last product
    return schedule
