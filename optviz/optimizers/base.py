"""What an optimiser is: typed hyperparameters with torch.optim's names and defaults, and a pure transform.

An optimiser's `make(**hyperparameters)` returns a `Transform`, a pair of pure functions over batched
numpy state (optax style):

    state = transform.init(params)                          # params: float64 array (B, 2)
    new_params, state = transform.update(grad, state, params)

`update` returns the new parameters rather than an update to add: torch computes θ_t in its own operation order
(`param.addcdiv_(exp_avg, denom, value=-step_size)` and the like), and returning θ_t lets each optimiser round
exactly as torch does, where θ + Δ computed separately would differ in the last bit.

Nothing is mutated. Float hyperparameters may be Python floats or arrays broadcastable to (B, 1), so
one call steps a whole batch of start points *and* learning rates (the lr tuner relies on this).
Boolean, integer and choice hyperparameters (L-BFGS's max_iter, line_search_fn) are plain Python values.
An entry's capabilities live in it: what its transform needs from the engine (`Transform.needs`), the torch class
it matches, and whether the lr tuner may choose its lr (`tune_lr`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from optviz.errors import UsageError
from optviz.registry import closest_name

Array = np.ndarray
HyperValue = float | bool | int | str | None | tuple[float, float]
Check = Callable[[Any], str | None]


class Transform(NamedTuple):
    """`needs` says what the engine must pass `update` beyond (grad, state, params): "value" adds `value=` (B,),
    f at params (where grad was taken), and `oracle=oracle(points (n, d), rows (n,)) -> (values (n,), grads (n, d))`
    for extra evaluations (a line search; each point counts as one evaluation, on top of the step's own one);
    "hessian" adds `hessian=` (B, d, d) at params."""

    init: Callable[[Array], Any]
    update: Callable[..., tuple[Array, Any]]  # update(grad, state, params, **what `needs` names beyond gradient)
    needs: frozenset[str] = frozenset({"gradient"})


class _Required:
    """The default of a hyperparameter that has none (torch's `required`): resolving without it is an error."""

    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


# --- range checks: each returns None when the value is allowed, else the allowed range in words ---


def at_least(bound: float) -> Check:
    return lambda v: None if v >= bound else f"must be >= {bound:g}"


def in_interval(low: float, high: float, *, closed_high: bool = False) -> Check:
    right = "]" if closed_high else ")"

    def check(v: float) -> str | None:
        ok = low <= v <= high if closed_high else low <= v < high
        return None if ok else f"must be in [{low:g}, {high:g}{right}"

    return check


def each_in_interval(low: float, high: float) -> Check:
    """For pairs such as betas: both entries in [low, high)."""

    def check(pair: tuple[float, float]) -> str | None:
        bad = [v for v in pair if not low <= v < high]
        return None if not bad else f"entries must be in [{low:g}, {high:g})"

    return check


@dataclass(frozen=True)
class Hyperparameter:
    """One keyword. Its kind is the default's (float, bool or pair) unless `type` says otherwise: "int" (a whole
    number; 1e3 and 1000.0 are read as 1000) or "choice" (one of the strings `choices`). `optional` also accepts
    none (torch's None: "not set", as LBFGS's max_eval=None or line_search_fn=None); `check` applies to the rest."""

    name: str
    default: HyperValue
    doc: str
    check: Check | None = None
    type: str = ""
    choices: tuple[str, ...] = ()
    optional: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def kind(self) -> str:
        if self.type:
            return self.type
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, tuple):
            return "pair"
        return "float"

    def coerce(self, value: Any, optimizer: str) -> HyperValue:
        """Type-check and range-check one user value; raise UsageError naming parameter, value and range."""
        where = f"{optimizer}: {self.name}"
        if value is None and self.optional:
            return None
        if self.kind == "choice":
            if value not in self.choices:
                allowed = ", ".join(self.choices)
                raise UsageError(f"{where} must be {'none or ' if self.optional else ''}one of {allowed} "
                                 f"(got {value!r})")
            return value
        if self.kind == "int":
            whole = whole_number(value, where, " or none" if self.optional else "")
            problem = self.check(whole) if self.check else None
            if problem:
                raise UsageError(f"{where} {problem} (got {value!r})")
            return whole
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise UsageError(f"{where} must be true or false (got {value!r})")
            return value
        if self.kind == "pair":
            if not (isinstance(value, tuple) and len(value) == 2 and all(_is_number(v) for v in value)):
                raise UsageError(f"{where} must be a pair of numbers like (0.9, 0.999) (got {value!r})")
            coerced: HyperValue = (float(value[0]), float(value[1]))
            numbers = coerced
        else:
            if not _is_number(value):
                raise UsageError(f"{where} must be a number (got {value!r})")
            coerced = float(value)
            numbers = (coerced,)
        if not all(math.isfinite(v) for v in numbers):
            raise UsageError(f"{where} must be finite (got {value!r})")
        problem = self.check(coerced) if self.check else None
        if problem:
            raise UsageError(f"{where} {problem} (got {value!r})")
        return coerced


def whole_number(value: Any, where: str, alternative: str = "", plural: bool = False) -> int:
    """`value` as an int: an int, or a float that is one (1e3); else a UsageError naming `where`."""
    integral = isinstance(value, float) and math.isfinite(value) and value.is_integer()
    if not (isinstance(value, int) and not isinstance(value, bool)) and not integral:
        raise UsageError(f"{where} must be {'integers' if plural else 'an integer'}{alternative} (got {value!r})")
    return int(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def learning_rate(default: float, doc: str = "learning rate") -> Hyperparameter:
    return Hyperparameter("lr", default, doc, at_least(0))


def weight_decay(doc: str = "L2 penalty added to the gradient") -> Hyperparameter:
    return Hyperparameter("weight_decay", 0.0, doc, at_least(0))


MAXIMIZE = Hyperparameter("maximize", False, "ascend the function instead of descending")


@dataclass(frozen=True)
class OptimizerDef:
    """A registry entry: the CLI name, torch.optim's hyperparameters and defaults, and the transform."""

    name: str
    summary: str
    reference: str
    hyperparameters: tuple[Hyperparameter, ...]
    make: Callable[..., Transform]  # make(**every hyperparameter, resolved): the defaults live only above
    torch_class: str | None  # the torch.optim class it matches step for step; None if torch has none
    cross_check: Callable[[Mapping[str, HyperValue]], str | None] | None = None
    aliases: tuple[str, ...] = ()
    tune_lr: bool = True  # False: race at the given (or default) lr untuned (lr 1 is a Newton-type step's own length)

    def defaults(self) -> dict[str, HyperValue]:
        return {h.name: h.default for h in self.hyperparameters}

    def resolve(self, given: Mapping[str, Any]) -> dict[str, HyperValue]:
        """Every hyperparameter, defaults filled in, validated with torch's rules."""
        known = {h.name: h for h in self.hyperparameters}
        unknown = [k for k in given if k not in known]
        if unknown:
            suggestion = closest_name(unknown[0], list(known))
            hint = f"; did you mean '{suggestion}'?" if suggestion else ""
            raise UsageError(f"{self.name}: unknown keyword '{unknown[0]}'{hint} (valid: {', '.join(known)})")
        missing = [h.name for h in self.hyperparameters if h.required and h.name not in given]
        if missing:
            raise UsageError(f"{self.name}: {missing[0]} is required (it has no default)")
        params = {h.name: h.coerce(given[h.name], self.name) if h.name in given else h.default
                  for h in self.hyperparameters}
        problem = self.cross_check(params) if self.cross_check else None
        if problem:
            raise UsageError(f"{self.name}: {problem}")
        return params

    def build(self, params: Mapping[str, Any]) -> Transform:
        return self.make(**params)

    def preset(self, name: str, summary: str, aliases: tuple[str, ...] = (), **defaults: HyperValue) -> OptimizerDef:
        """The same algorithm under another name with other defaults (momentum = sgd with momentum 0.9)."""
        hyperparameters = tuple(
            dataclasses.replace(h, default=defaults[h.name]) if h.name in defaults else h
            for h in self.hyperparameters
        )
        missing = set(defaults) - {h.name for h in hyperparameters}
        if missing:
            raise ValueError(f"preset {name}: no hyperparameter {sorted(missing)}")
        return dataclasses.replace(self, name=name, summary=summary, aliases=aliases,
                                   hyperparameters=hyperparameters)
