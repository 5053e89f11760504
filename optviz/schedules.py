"""Learning-rate schedules with torch.optim.lr_scheduler's names, defaults and arithmetic.

A schedule turns a race of N optimiser steps into the hyperparameters in force at each step. `scheduled(...)`,
a Transform combinator, rebuilds the optimiser's transform before step k+1 from `{**params, **{key:
values[key][k]}}` and keeps the state, exactly as torch does when `scheduler.step()` follows every
`optimizer.step()`:

    sched = Scheduler(opt, ...)                      # the constructor's "initial step": value 0
    for k in range(N):
        opt.step()                                   # uses group["lr"] = values["lr"][k]
        sched.step()                                 # last_epoch = k + 1: the next value

Each schedule below is written as torch's chainable `get_lr` recurrence (the one `scheduler.step()` runs, not
the closed form), with the same floating-point operations in the same order, so the sequences equal torch's
bit for bit (the tests check 1e-13 relative). With η_k the lr at step k+1, η_b the optimiser's lr:

    step         η_k = η_{k-1} γ           when k > 0 and k ≡ 0 (mod step_size), else η_{k-1}     StepLR
    multistep    η_k = η_{k-1} γ^c(k)      c(k) = times k appears in milestones                   MultiStepLR
    exponential  η_k = η_{k-1} γ           (k >= 1)                                               ExponentialLR
    cosine       η_k = η_min + (η_{k-1} - η_min) (1 + cos(π k/T)) / (1 + cos(π (k-1)/T)),       CosineAnnealingLR
                 or η_{k-1} + (η_b - η_min)(1 - cos(π/T))/2 when (k - 1 - T) ≡ 0 (mod 2T)
    linear       η_0 = η_b s;  η_k = η_{k-1} (1 + (e - s) / (n s + (k - 1)(e - s)))  for 1 <= k <= n   LinearLR
    constant     η_0 = η_b f;  η_n = η_{n-1} / f                                                  ConstantLR
    polynomial   η_k = η_{k-1} ((1 - k/n) / (1 - (k-1)/n))^p   for 1 <= k <= n                    PolynomialLR
    cosine_restarts  η_k = η_min + (η_b - η_min)(1 + cos(π T_cur/T_i))/2; T_cur restarts at T_i,
                 and T_i grows by T_mult at each restart                            CosineAnnealingWarmRestarts
    onecycle     cosine (or linear) interpolation between max_lr/div_factor, max_lr and
                 max_lr/(div_factor final_div_factor) over two (or three) phases; momentum (or β1) moves
                 the opposite way between max_momentum and base_momentum                          OneCycleLR
    warmup_cosine    SequentialLR([LinearLR(start_factor, 1.0, total_iters=warmup_steps),
                 CosineAnnealingLR(T_max, eta_min)], milestones=[warmup_steps]): a linear warm-up from
                 η_b start_factor to η_b over warmup_steps steps, then cosine annealing from η_b down to
                 eta_min over the next T_max steps (η reaches eta_min at step warmup_steps + T_max)

References: Loshchilov & Hutter 2017, "SGDR: Stochastic Gradient Descent with Warm Restarts" (cosine,
cosine_restarts); Smith & Topin 2019, "Super-Convergence" (onecycle); torch/optim/lr_scheduler.py (torch 2.13).

Any other torch scheduler is available by import path, `torch.optim.lr_scheduler.CyclicLR(base_lr=0.01,
max_lr=0.1)`: it runs on a dummy float64 torch optimiser and its param_groups are read after each step. Only
then is torch imported.

Spec texts use the optimiser grammar of `optviz.specs` (import paths and quoted strings included), plus bare
word values (`anneal_strategy=linear` as well as `anneal_strategy='linear'`), lifted out before it runs with
every column kept in place.
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from optviz.errors import UsageError
from optviz.optimizers.base import REQUIRED, Check, Hyperparameter, Transform, at_least, in_interval, whole_number
from optviz.registry import Registry
from optviz.specs import parse_optimizer_list, show_value

TORCH_SCHEDULER_MODULE = "torch.optim.lr_scheduler"


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ScheduleParameter(Hyperparameter):
    """A Hyperparameter with one more kind that schedules need: `type` "ints" (strictly increasing integers; a
    lone integer is a one-element tuple). A default of REQUIRED means torch has none; `optional` also accepts None
    (which means "from the race", see its doc).
    """

    def coerce(self, value: Any, owner: str) -> Any:
        if self.kind != "ints" or (value is None and self.optional):
            return super().coerce(value, owner)
        where = f"{owner}: {self.name}"
        entries = value if isinstance(value, tuple) else (value,)
        coerced = tuple(whole_number(entry, where, plural=True) for entry in entries)
        if not coerced or any(b <= a for a, b in zip(coerced, coerced[1:])):
            raise UsageError(f"{where} must be strictly increasing integers like (100, 200) (got {value!r})")
        problem = self.check(coerced) if self.check else None
        if problem:
            raise UsageError(f"{where} {problem} (got {value!r})")
        return coerced


def _entries_at_least(low: int) -> Check:
    return lambda values: None if all(v >= low for v in values) else f"entries must be >= {low}"


def _positive(v: float) -> str | None:
    return None if v > 0 else "must be > 0"


def _fraction(v: float) -> str | None:
    return None if 0 < v <= 1 else "must be in (0, 1]"


def _param(name: str, default: Any, doc: str, check: Check | None = None, **kind: Any) -> ScheduleParameter:
    return ScheduleParameter(name, default, doc, check, **kind)


def _integer_param(name: str, default: Any, doc: str, low: int, **kind: Any) -> ScheduleParameter:
    return _param(name, default, doc, at_least(low), type="int", **kind)


_GAMMA = _param("gamma", 0.1, "multiplicative decay factor", _positive)
_ETA_MIN = _param("eta_min", 0.0, "lowest learning rate", at_least(0))


# --------------------------------------------------------------------------- the recurrences


class Trace(NamedTuple):
    """One schedule over a race: the lr at each step, and the cycled momentum (β1) or None."""

    lr: list[float]
    momentum: list[float] | None


def _chained(first: float, rule: Callable[[int, float], float], steps: int) -> list[float]:
    """η_0 = first; η_k = rule(k, η_{k-1}) for k = 1 .. steps-1 (torch's `get_lr` on `last_epoch = k`)."""
    values = [first]
    for k in range(1, steps):
        values.append(rule(k, values[-1]))
    return values[:steps]


def _step_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    def rule(k: int, lr: float) -> float:
        return lr * p["gamma"] if k % p["step_size"] == 0 else lr

    return Trace(_chained(base, rule, steps), None)


def _multistep_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    counts = Counter(p["milestones"])

    def rule(k: int, lr: float) -> float:
        return lr * p["gamma"] ** counts[k] if k in counts else lr

    first = base * p["gamma"] ** counts[0] if 0 in counts else base  # a milestone 0 applies in the constructor
    return Trace(_chained(first, rule, steps), None)


def _exponential_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    return Trace(_chained(base, lambda k, lr: lr * p["gamma"], steps), None)


def _cosine_rule(base: float, t_max: int, eta_min: float) -> Callable[[int, float], float]:
    """CosineAnnealingLR's recursive step at last_epoch = k >= 1 (base = its base lr)."""

    def rule(k: int, lr: float) -> float:
        if (k - 1 - t_max) % (2 * t_max) == 0:  # leaving a trough: the ratio below would be 0/0
            return lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        ratio = (1 + math.cos(math.pi * k / t_max)) / (1 + math.cos(math.pi * (k - 1) / t_max))
        return ratio * (lr - eta_min) + eta_min

    return rule


def _cosine_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    return Trace(_chained(base, _cosine_rule(base, p["T_max"], p["eta_min"]), steps), None)


def _linear_rule(start: float, end: float, total: int) -> Callable[[int, float], float]:
    def rule(k: int, lr: float) -> float:
        if k > total:
            return lr
        return lr * (1.0 + (end - start) / (total * start + (k - 1) * (end - start)))

    return rule


def _linear_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    rule = _linear_rule(p["start_factor"], p["end_factor"], p["total_iters"])
    return Trace(_chained(base * p["start_factor"], rule, steps), None)


def _constant_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    def rule(k: int, lr: float) -> float:
        return lr * (1.0 / p["factor"]) if k == p["total_iters"] else lr

    return Trace(_chained(base * p["factor"], rule, steps), None)


def _polynomial_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    total = p["total_iters"]

    def rule(k: int, lr: float) -> float:
        if k > total:
            return lr
        return lr * ((1.0 - k / total) / (1.0 - (k - 1) / total)) ** p["power"]

    return Trace(_chained(base, rule, steps), None)


def _cosine_restarts_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    eta_min, period, t_cur, values = p["eta_min"], p["T_0"], 0, []
    for k in range(steps):
        if k > 0:
            t_cur += 1
            if t_cur >= period:
                t_cur, period = t_cur % period, period * p["T_mult"]
        values.append(eta_min + (base - eta_min) * (1 + math.cos(math.pi * t_cur / period)) / 2)
    return Trace(values, None)


def _warmup_cosine_lr(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    """SequentialLR: LinearLR before the milestone; at it CosineAnnealingLR restarts from its closed form at 0."""
    warmup, t_max, eta_min = p["warmup_steps"], p["T_max"], p["eta_min"]
    linear = _linear_rule(p["start_factor"], 1.0, warmup)
    cosine = _cosine_rule(base, t_max, eta_min)
    values = []
    for k in range(steps):
        if k == 0:
            lr = base * p["start_factor"] if warmup > 0 else base
        elif k < warmup:
            lr = linear(k, values[-1])
        elif k == warmup:
            lr = eta_min + (base - eta_min) * (1 + math.cos(math.pi * 0 / t_max)) / 2
        else:
            lr = cosine(k - warmup, values[-1])
        values.append(lr)
    return Trace(values, None)


def _onecycle(p: Mapping[str, Any], base: float, steps: int) -> Trace:
    """OneCycleLR: phases end at pct_start T - 1 (and 2 pct_start T - 2) and T - 1; the optimiser lr is unused."""
    if steps == 0:
        return Trace([], [] if p["cycle_momentum"] else None)
    total = steps if p["total_steps"] is None else p["total_steps"]
    if total < steps:
        raise UsageError(f"onecycle: total_steps={total} is fewer than the race's {steps} steps "
                         f"(torch's OneCycleLR refuses to step past total_steps)", parameter="schedule")
    lrs = {"initial": p["max_lr"] / p["div_factor"], "max": p["max_lr"]}
    lrs["min"] = lrs["initial"] / p["final_div_factor"]
    momenta = {"max": p["max_momentum"], "base": p["base_momentum"]}
    pct = float(p["pct_start"])
    if p["three_phase"]:
        phases = [(float(pct * total) - 1, "initial", "max", "max", "base"),
                  (float(2 * pct * total) - 2, "max", "initial", "base", "max"),
                  (total - 1, "initial", "min", "max", "max")]
    else:
        phases = [(float(pct * total) - 1, "initial", "max", "max", "base"),
                  (total - 1, "max", "min", "base", "max")]
    anneal = _anneal_cos if p["anneal_strategy"] == "cos" else _anneal_linear
    lr_values, momentum_values = [], []
    for k in range(steps + 1):  # + 1: torch computes the value after the last step too, and may divide by 0 there
        start = 0.0
        for index, (end, lr_from, lr_to, momentum_from, momentum_to) in enumerate(phases):
            if k <= end or index == len(phases) - 1:
                if end == start:
                    raise UsageError(f"onecycle: pct_start={p['pct_start']!r} with total_steps={total} makes a "
                                     f"phase of zero steps (torch divides by zero)", parameter="schedule")
                fraction = (k - start) / (end - start)
                lr_values.append(anneal(lrs[lr_from], lrs[lr_to], fraction))
                momentum_values.append(anneal(momenta[momentum_from], momenta[momentum_to], fraction))
                break
            start = end
    return Trace(lr_values[:steps], momentum_values[:steps] if p["cycle_momentum"] else None)


def _anneal_cos(start: float, end: float, fraction: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)


def _anneal_linear(start: float, end: float, fraction: float) -> float:
    return (end - start) * fraction + start


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ScheduleDef:
    """A registry entry: the spec name, torch's class, keywords and defaults, and the recurrence."""

    name: str
    summary: str
    torch_class: str  # in torch.optim.lr_scheduler
    hyperparameters: tuple[ScheduleParameter, ...]
    run: Callable[[Mapping[str, Any], float, int], Trace]  # run(params, optimiser lr, steps)
    aliases: tuple[str, ...] = ()
    uses_base_lr: bool = True  # False: the schedule sets lr itself (onecycle's max_lr), so tuning lr is moot

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every keyword, torch's defaults filled in, validated; UsageError(parameter="schedule") otherwise."""
        known = {h.name: h for h in self.hyperparameters}
        unknown = [key for key in given if key not in known]
        if unknown:
            raise UsageError(f"{self.name}: unknown keyword '{unknown[0]}' (valid: {', '.join(known)})",
                             parameter="schedule")
        missing = [h.name for h in self.hyperparameters if h.required and h.name not in given]
        if missing:
            raise UsageError(f"{self.name}: {missing[0]} is required", parameter="schedule")
        try:
            return {h.name: h.coerce(given[h.name], self.name) if h.name in given else h.default
                    for h in self.hyperparameters}
        except UsageError as error:
            raise UsageError(error.message, parameter="schedule") from error


def _momentum(name: str, default: float, doc: str) -> ScheduleParameter:
    return _param(name, default, doc, in_interval(0, 1))


SCHEDULES: Registry[ScheduleDef] = Registry("schedule", [
    ScheduleDef("step", "multiply the lr by gamma every step_size steps", "StepLR", (
        _integer_param("step_size", REQUIRED, "steps between decays", 1),
        _GAMMA,
    ), _step_lr),
    ScheduleDef("multistep", "multiply the lr by gamma at each milestone step", "MultiStepLR", (
        _param("milestones", REQUIRED, "steps at which the lr decays", _entries_at_least(0), type="ints"),
        _GAMMA,
    ), _multistep_lr),
    ScheduleDef("exponential", "multiply the lr by gamma every step", "ExponentialLR", (
        _param("gamma", REQUIRED, "multiplicative decay factor per step", _positive),
    ), _exponential_lr),
    ScheduleDef("cosine", "cosine annealing from the lr to eta_min over T_max steps (then back up)",
                "CosineAnnealingLR", (
                    _integer_param("T_max", REQUIRED, "steps from the lr down to eta_min", 1),
                    _ETA_MIN,
                ), _cosine_lr),
    ScheduleDef("linear", "scale the lr linearly from start_factor to end_factor over total_iters steps",
                "LinearLR", (
                    _param("start_factor", 1.0 / 3, "lr multiplier at the first step", _fraction),
                    _param("end_factor", 1.0, "lr multiplier from step total_iters on",
                           in_interval(0, 1, closed_high=True)),
                    _integer_param("total_iters", 5, "steps of the linear change", 0),
                ), _linear_lr),
    ScheduleDef("constant", "scale the lr by factor for the first total_iters steps", "ConstantLR", (
        _param("factor", 1.0 / 3, "lr multiplier until total_iters (0 would divide by zero there)", _fraction),
        _integer_param("total_iters", 5, "steps at the reduced lr", 0),
    ), _constant_lr),
    ScheduleDef("polynomial", "decay the lr to 0 over total_iters steps as (1 - k/total_iters)^power",
                "PolynomialLR", (
                    _integer_param("total_iters", 5, "steps of the decay", 0),
                    _param("power", 1.0, "power of the polynomial", at_least(0)),
                ), _polynomial_lr),
    ScheduleDef("onecycle", "the 1cycle policy: up to max_lr, then far below the start; momentum the other way",
                "OneCycleLR", (
                    _param("max_lr", REQUIRED, "the peak lr (the optimiser's lr is not used)", _positive),
                    _integer_param("total_steps", None, "steps in the cycle (none: the race's steps)", 1,
                                   optional=True),
                    _param("pct_start", 0.3, "share of the cycle spent raising the lr",
                           in_interval(0, 1, closed_high=True)),
                    _param("anneal_strategy", "cos", "cos or linear interpolation", type="choice",
                           choices=("cos", "linear")),
                    _param("cycle_momentum", True, "cycle momentum (or beta1) inversely to the lr"),
                    _momentum("base_momentum", 0.85, "momentum at the lr peak"),
                    _momentum("max_momentum", 0.95, "momentum at the start and end of the cycle"),
                    _param("div_factor", 25.0, "initial lr = max_lr / div_factor", _positive),
                    _param("final_div_factor", 1e4, "final lr = initial lr / final_div_factor", _positive),
                    _param("three_phase", False, "a third phase down to the final lr (Smith's original)"),
                ), _onecycle, uses_base_lr=False),
    ScheduleDef("cosine_restarts", "cosine annealing restarted every T_0 steps, each period T_mult times longer",
                "CosineAnnealingWarmRestarts", (
                    _integer_param("T_0", REQUIRED, "steps until the first restart", 1),
                    _integer_param("T_mult", 1, "growth of the period at each restart", 1),
                    _ETA_MIN,
                ), _cosine_restarts_lr, aliases=("sgdr",)),
    ScheduleDef("warmup_cosine", "linear warm-up over warmup_steps, then cosine annealing over T_max steps",
                "SequentialLR", (
                    _integer_param("warmup_steps", REQUIRED, "steps of the linear warm-up", 0),
                    _integer_param("T_max", REQUIRED, "steps from the lr down to eta_min after the warm-up", 1),
                    _param("start_factor", 1.0 / 3, "lr multiplier at the first step (LinearLR's default)",
                           _fraction),
                    _ETA_MIN,
                ), _warmup_cosine_lr),
])


# --------------------------------------------------------------------------- the resolved schedule


@dataclass(frozen=True)
class Schedule:
    """One resolved schedule, JSON-able: the canonical name (or a torch import path) and every keyword."""

    name: str
    params: Mapping[str, Any]

    @property
    def is_torch_class(self) -> bool:
        return "." in self.name

    @property
    def uses_base_lr(self) -> bool:
        """Whether the optimiser's lr matters (torch classes with their own max_lr or base_lr, such as
        OneCycleLR and CyclicLR, set lr themselves)."""
        if self.is_torch_class:
            return not {"max_lr", "base_lr"} & set(self.params)
        return SCHEDULES.get(self.name).uses_base_lr

    def label(self) -> str:
        """Legend text, with the keywords that differ from the defaults: `cosine(T_max=300)`."""
        if self.is_torch_class:
            defaults = _constructor_keywords(_torch_scheduler_class(self.name))
            return _call_text(self.name.rsplit(".", 1)[-1],
                              {k: v for k, v in self.params.items() if v != defaults.get(k, REQUIRED)})
        entry = SCHEDULES.get(self.name)
        return _call_text(self.name, {h.name: self.params[h.name] for h in entry.hyperparameters
                                      if self.params[h.name] != h.default})

    def to_json(self) -> dict[str, Any]:
        torch_class = (self.name if self.is_torch_class
                       else f"{TORCH_SCHEDULER_MODULE}.{SCHEDULES.get(self.name).torch_class}")
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()}
        return {"name": self.name, "label": self.label(), "torch_class": torch_class, "params": params}

    def values(self, optimizer_params: Mapping[str, Any], steps: int) -> dict[str, np.ndarray | list]:
        """The hyperparameters in force at optimiser steps 1 .. steps (index k: step k+1).

        Always "lr" (float64, shape (steps,)); when the schedule cycles momentum, "betas" (a list of
        (β1_k, β2) tuples) if the optimiser has betas, else "momentum" (float64, shape (steps,)), as torch
        prefers betas. The base lr is optimizer_params["lr"].
        """
        if steps < 0:
            raise UsageError(f"steps must be >= 0 (got {steps})", parameter="steps")
        base = float(optimizer_params["lr"])
        if self.is_torch_class:
            return _torch_values(self, optimizer_params, steps)
        trace = SCHEDULES.get(self.name).run(self.params, base, steps)
        out: dict[str, np.ndarray | list] = {"lr": np.array(trace.lr, dtype=np.float64).reshape(steps)}
        if trace.momentum is None:
            return out
        if "betas" in optimizer_params:
            beta2 = float(optimizer_params["betas"][1])
            out["betas"] = [(m, beta2) for m in trace.momentum]
        elif "momentum" in optimizer_params:
            out["momentum"] = np.array(trace.momentum, dtype=np.float64).reshape(steps)
        else:
            raise UsageError(f"{self.name}: cycle_momentum=true needs an optimizer with momentum or betas "
                             f"(or set cycle_momentum=false)", parameter="schedule")
        return out


class ScheduledState(NamedTuple):
    count: int  # optimiser steps taken
    inner: Any  # the inner transform's state


def scheduled(make: Callable[[Mapping[str, Any]], Transform], params: Mapping[str, Any], schedule: Schedule,
              steps: int) -> Transform:
    """A transform whose step k+1 is `make({**params, **values at k})` on the same state (optax's
    `inject_hyperparams`, torch's `scheduler.step()` after every `optimizer.step()`).

    `params["lr"]` may be an array (B, 1) of base lrs (the lr tuner's candidates): each row gets its own lr trace.
    """
    values = _values_per_row(schedule, params, steps)
    first = make(params)

    def init(start: np.ndarray) -> ScheduledState:
        return ScheduledState(0, first.init(start))

    def update(grad: np.ndarray, state: ScheduledState, current: np.ndarray, **extras: Any):
        k = min(state.count, steps - 1)
        transform = make({**params, **{key: series[k] for key, series in values.items()}})
        new, inner = transform.update(grad, state.inner, current, **extras)
        return new, ScheduledState(state.count + 1, inner)

    return Transform(init, update, first.needs)


def _values_per_row(schedule: Schedule, params: Mapping[str, Any], steps: int) -> dict[str, Any]:
    lr = params["lr"]
    if np.ndim(lr) == 0:
        return schedule.values(params, steps)
    base, rows = np.unique(np.asarray(lr, dtype=np.float64).reshape(-1), return_inverse=True)
    traces = [schedule.values({**params, "lr": float(b)}, steps) for b in base]
    values = dict(traces[0])  # momentum and betas do not depend on the base lr
    values["lr"] = np.stack([trace["lr"] for trace in traces], axis=1)[:, rows, None]  # (steps, B, 1)
    return values


def _call_text(name: str, kwargs: Mapping[str, Any]) -> str:
    """`name(k=v, ...)` in spec syntax (words bare, numbers exact through format_number), or just the name."""
    if not kwargs:
        return name
    shown = (f"{key}={show_value(value, digits=None)}" for key, value in kwargs.items())
    return f"{name}({', '.join(shown)})"


# --------------------------------------------------------------------------- resolving and parsing


def resolve_schedule(name: str, kwargs: Mapping[str, Any]) -> Schedule:
    """A registry name (`cosine`) or a torch import path (`torch.optim.lr_scheduler.StepLR`) and its keywords,
    checked, with every default filled in. Keywords match case-insensitively (`t_max` is `T_max`)."""
    if "." in name:
        return Schedule(name.strip(), _resolve_torch(name.strip(), kwargs))
    try:
        entry = SCHEDULES.get(name)
    except UsageError as error:
        raise UsageError(error.message, parameter="schedule") from error
    return Schedule(entry.name, entry.resolve(_fold_keywords(kwargs, [h.name for h in entry.hyperparameters])))


def _fold_keywords(kwargs: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    canonical = {_fold(n): n for n in names}
    return {canonical.get(_fold(key), key): value for key, value in kwargs.items()}


def _fold(key: str) -> str:
    return key.strip().lower().replace("-", "_")


MAX_SPEC_CHARS = 500  # one schedule spec; real ones are under 150 characters
_WORD_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)(\s*=\s*)('[^']*'|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_-]*)")
_GRAMMAR_WORDS = frozenset({"true", "false", "none", "inf", "infinity", "nan"})  # left to the shared parser
_PARSER_PREFIX = re.compile(r"^bad --opt ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"): ")


def parse_schedule(text: str) -> Schedule:
    """`cosine(T_max=100, eta_min=1e-4)`, `onecycle(max_lr=0.1, anneal_strategy=linear)` or
    `torch.optim.lr_scheduler.StepLR(step_size=10)` -> a resolved Schedule; UsageError(parameter="schedule")."""
    if len(text) > MAX_SPEC_CHARS:
        raise UsageError(f"is too long ({len(text)} characters; at most {MAX_SPEC_CHARS})", parameter="schedule")
    if not text.strip():
        raise UsageError("is empty: give a schedule such as 'cosine(T_max=100)'", parameter="schedule")
    masked, words = _lift_words(text)
    try:
        calls = parse_optimizer_list(masked)
    except UsageError as error:
        detail = _PARSER_PREFIX.sub("", error.message)
        raise UsageError(f"bad spec {_shown(text)}: {detail}", parameter="schedule") from error
    if len(calls) != 1:
        raise UsageError(f"bad spec {_shown(text)}: give one schedule (found {len(calls)})", parameter="schedule")
    kwargs = {**calls[0].kwargs, **words}
    return resolve_schedule(calls[0].name, kwargs)


def _lift_words(text: str) -> tuple[str, dict[str, str]]:
    """(text the optimiser grammar reads, word values by folded keyword): a word value becomes `0` padded with
    spaces to its length, so the parser's columns still point into the text as typed."""
    words: dict[str, str] = {}

    def mask(match: re.Match[str]) -> str:
        value = match.group(3)
        if value.lower() in _GRAMMAR_WORDS:
            return match.group(0)
        words[_fold(match.group(1))] = value.strip("'\"") if value[0] in "'\"" else value
        return match.group(1) + match.group(2) + "0".ljust(len(value))

    return _WORD_VALUE.sub(mask, text), words


def _shown(text: str, limit: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# --------------------------------------------------------------------------- torch schedulers by import path


def _torch_scheduler_class(path: str) -> type:
    """The torch LRScheduler subclass at `path` (imported now); refuse anything else."""
    module_name, _, class_name = path.rpartition(".")
    if module_name.split(".")[0] != "torch":
        raise UsageError(f"{path}: only torch classes can be named by import path "
                         f"(e.g. {TORCH_SCHEDULER_MODULE}.StepLR)", parameter="schedule")
    try:
        import torch.optim.lr_scheduler as lr_scheduler
    except ImportError as error:
        raise UsageError(f"{path}: torch is not installed (pip install torch)", parameter="schedule") from error
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"{path}: cannot import {module_name} ({error})", parameter="schedule") from error
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, lr_scheduler.LRScheduler)):
        raise UsageError(f"{path} is not a torch learning-rate scheduler", parameter="schedule")
    needs = [p.name for p in list(inspect.signature(cls.step).parameters.values())[1:]
             if p.default is inspect.Parameter.empty]
    if needs:
        raise UsageError(f"{path}: its step() needs {', '.join(needs)}, which a race cannot give",
                         parameter="schedule")
    return cls


def _constructor_keywords(cls: type) -> dict[str, Any]:
    """The scheduler's keywords and defaults (REQUIRED when none), without optimizer and last_epoch."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[2:]
    return {p.name: REQUIRED if p.default is inspect.Parameter.empty else p.default
            for p in parameters if p.name != "last_epoch" and p.kind is p.POSITIONAL_OR_KEYWORD}


def _resolve_torch(path: str, given: Mapping[str, Any]) -> dict[str, Any]:
    keywords = _constructor_keywords(_torch_scheduler_class(path))
    given = _fold_keywords(given, list(keywords))
    unknown = [key for key in given if key not in keywords]
    if unknown:
        raise UsageError(f"{path}: unknown keyword '{unknown[0]}' (valid: {', '.join(keywords)})",
                         parameter="schedule")
    missing = [key for key, default in keywords.items() if default is REQUIRED and key not in given]
    if missing:
        raise UsageError(f"{path}: {missing[0]} is required", parameter="schedule")
    for key, value in given.items():
        if not _is_spec_value(value):
            raise UsageError(f"{path}: {key} must be a number, true, false, none, a word or a tuple "
                             f"(got {value!r})", parameter="schedule")
    defaults = {key: value for key, value in keywords.items() if _is_spec_value(value) and key not in given}
    return {key: given.get(key, defaults.get(key)) for key in keywords if key in given or key in defaults}


def _is_spec_value(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_is_spec_value(v) for v in value)
    return value is None or isinstance(value, bool | int | float | str)


def _torch_values(schedule: Schedule, optimizer_params: Mapping[str, Any], steps: int) -> dict[str, np.ndarray | list]:
    """Step the scheduler on a dummy float64 optimiser whose group carries the optimiser's lr, momentum and betas.

    The dummy is torch.optim.SGD with its group (and defaults) made to hold exactly those keys, which is all
    a scheduler reads or writes (CyclicLR and OneCycleLR check `defaults` for momentum or betas). It is never
    stepped, so torch's "scheduler.step() before optimizer.step()" warning is silenced.
    """
    import warnings

    import torch

    cls = _torch_scheduler_class(schedule.name)
    optimizer = torch.optim.SGD([torch.zeros(1, dtype=torch.float64)], lr=float(optimizer_params["lr"]))
    group = optimizer.param_groups[0]
    cycled = [key for key in ("momentum", "betas") if key in optimizer_params]
    for key in ("momentum", "betas"):
        for holder in (group, optimizer.defaults):
            holder.pop(key, None)
            if key in cycled:
                holder[key] = _group_value(optimizer_params[key], key)
    records: dict[str, list] = {"lr": [], **{key: [] for key in cycled}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            scheduler = cls(optimizer, **schedule.params)
            for _ in range(steps):
                records["lr"].append(float(group["lr"]))
                for key in cycled:
                    records[key].append(_group_value(group[key], key))
                scheduler.step()
        except (ValueError, TypeError, KeyError, ZeroDivisionError, RuntimeError) as error:
            raise UsageError(f"{schedule.name}: {error}", parameter="schedule") from error
    out: dict[str, np.ndarray | list] = {"lr": np.array(records["lr"], dtype=np.float64).reshape(steps)}
    for key in cycled:
        if any(value != _group_value(optimizer_params[key], key) for value in records[key]):
            out[key] = records[key] if key == "betas" else np.array(records[key], dtype=np.float64).reshape(steps)
    return out


def _group_value(value: Any, key: str) -> float | tuple[float, ...]:
    """A param group's momentum as a float, its betas as a tuple of floats."""
    return tuple(map(float, value)) if key == "betas" else float(value)
