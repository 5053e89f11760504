"""Optimisers from outside optviz: a torch.optim.Optimizer subclass or an optviz OptimizerDef, named by import
path (`torch.optim.ASGD`, `package.module:name`) or registered by a package under the entry-point group
`optviz.optimizers`.

Resolving a path imports the named module (that import is the only code that runs; nothing the user typed is
evaluated) and reads one attribute. A torch class becomes an OptimizerDef whose hyperparameters and defaults are
its constructor's signature, whose values torch itself validates (by building one instance), and whose transform
steps torch itself: every start point has its own float64 parameter tensor of shape (d,) and its own optimiser
instance, so each start behaves exactly as if stepped alone, and a batched lr of shape (B, 1) (the lr tuner's
candidates) is one instance per row. torch is imported only here, only when such a name is used.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.metadata
import inspect
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from optviz.errors import UsageError
from optviz.optimizers import OPTIMIZERS, OptimizerDef
from optviz.optimizers.base import REQUIRED, Array, Hyperparameter, Transform
from optviz.registry import normalise_name

ENTRY_POINT_GROUP = "optviz.optimizers"
INSTALL_TORCH = 'install torch: pip install "optviz[torch]"'
BUILT_IN = "built-in"


@dataclass(frozen=True)
class Found:
    """What an optimiser name resolved to: the definition, the name a Run records, and where it came from."""

    definition: OptimizerDef
    name: str  # the canonical registry name, the entry point's name, or the import path as written
    source: str  # "built-in", "entry point <name> (<distribution>)" or "import path"


def is_import_path(name: str) -> bool:
    return "." in name or ":" in name


def find_optimizer(name: str) -> Found:
    """A built-in name (which always wins), a registered entry point, or an import path."""
    if is_import_path(name):
        return Found(definition_of(_import(name), name), name, "import path")
    try:
        definition = OPTIMIZERS.get(name)
    except UsageError:
        registered = entry_points().get(normalise_name(name))
        if registered is None:
            raise
        return _from_entry_point(registered)
    return Found(definition, definition.name, BUILT_IN)


def entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """Optimisers that installed packages register, by folded name (built-in names are not overridden)."""
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return {normalise_name(point.name): point for point in found if normalise_name(point.name) not in _builtin_keys()}


def registered_optimizers() -> tuple[list[Found], dict[str, str]]:
    """Every optimiser by name: the built-ins, then each registered entry point (loaded now); and, by name, the
    entry points that failed to load with why (a broken package must not break `optviz list`)."""
    found = [Found(definition, definition.name, BUILT_IN) for definition in OPTIMIZERS]
    broken = {}
    for point in entry_points().values():
        try:
            found.append(_from_entry_point(point))
        except UsageError as error:
            broken[point.name] = error.message
    return found, broken


def _builtin_keys() -> set[str]:
    return {normalise_name(key) for entry in OPTIMIZERS for key in (entry.name, *entry.aliases)}


def _from_entry_point(point: importlib.metadata.EntryPoint) -> Found:
    distribution = point.dist.name if point.dist is not None else "unknown package"
    try:
        target = point.load()
    except Exception as error:  # a broken plugin package must not end in a traceback
        raise UsageError(f"optimizer '{point.name}' from {distribution} failed to load ({_one_line(error)})") from error
    definition = dataclasses.replace(definition_of(target, point.name), name=point.name)  # the name it is known by
    return Found(definition, point.name, f"entry point {point.value} ({distribution})")


def _import(path: str) -> Any:
    """The object at `module.attribute` or `module:attribute.attribute`; the module import is the only code run."""
    module_name, _, attribute = path.partition(":") if ":" in path else path.rpartition(".")
    if not module_name or not attribute:
        raise UsageError(f"{path}: expected package.module.ClassName or package.module:ClassName")
    if module_name.split(".")[0] == "torch":
        _require_torch(path)
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise UsageError(f"{path}: no module named '{error.name or module_name}'") from error
    except Exception as error:  # the module's own import failed: say so on one line
        raise UsageError(f"{path}: importing {module_name} failed ({_one_line(error)})") from error
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise UsageError(f"{path}: {module_name} has no '{attribute}'")
        target = getattr(target, part)
    return target


def _require_torch(what: str) -> Any:
    try:
        import torch
    except ImportError as error:
        raise UsageError(f"{what} needs torch, which is not installed; {INSTALL_TORCH}") from error
    return torch


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def definition_of(target: Any, name: str) -> OptimizerDef:
    """An OptimizerDef as is, a torch.optim.Optimizer subclass wrapped as one; anything else is refused."""
    if isinstance(target, OptimizerDef):
        return target
    torch = sys.modules.get("torch")
    if isinstance(target, type) and torch is not None and issubclass(target, torch.optim.Optimizer):
        return torch_definition(target)
    kind = type(target).__name__ if not isinstance(target, type) else f"class {target.__name__}"
    raise UsageError(f"{name} is not an optimizer (a {kind}; expected a torch.optim.Optimizer subclass or an "
                     f"optviz OptimizerDef)")


# --------------------------------------------------------------------------- torch classes


@dataclass(frozen=True)
class TorchParameter(Hyperparameter):
    """A keyword of a torch optimiser's constructor: any spec value, checked by torch when the instance is built."""

    def coerce(self, value: Any, optimizer: str) -> Any:
        if not _is_plain(value):
            raise UsageError(f"{optimizer}: {self.name} must be a number, true, false, none, a quoted string or a "
                             f"tuple (got {value!r})")
        return value

    @property
    def kind(self) -> str:
        return "any"


def _is_plain(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_is_plain(v) for v in value)
    return value is None or isinstance(value, bool | int | float | str)


def torch_definition(cls: type) -> OptimizerDef:
    """The OptimizerDef of a torch optimiser class: its constructor's keywords and defaults, stepped by torch."""
    keywords = list(inspect.signature(cls.__init__).parameters.values())[2:]  # self, params
    hyperparameters = tuple(
        TorchParameter(p.name, REQUIRED if p.default is p.empty else p.default, "torch.optim keyword")
        for p in keywords
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and (p.default is p.empty or _is_plain(p.default))
    )
    closure = inspect.signature(cls.step).parameters.get("closure")
    needs = frozenset({"gradient", "value"}) if closure is not None and closure.default is closure.empty \
        else frozenset({"gradient"})
    doc = (inspect.getdoc(cls) or "").strip().splitlines()
    return OptimizerDef(
        name=cls.__name__,
        summary=doc[0] if doc else f"{cls.__module__}.{cls.__qualname__}",
        reference=f"{cls.__module__}.{cls.__qualname__}",
        hyperparameters=hyperparameters,
        make=functools.partial(torch_transform, cls, needs),
        torch_class=f"{cls.__module__}.{cls.__qualname__}",
        cross_check=functools.partial(_torch_accepts, cls),
        # a class whose step takes a closure (L-BFGS) sets its own step length: raced at its lr, as native lbfgs is
        tune_lr="value" not in needs,
    )


def _torch_accepts(cls: type, params: Mapping[str, Any]) -> str | None:
    """None if torch builds the optimiser with these keywords, else torch's own complaint (one line)."""
    import torch

    try:
        with _float64(torch):
            cls([torch.zeros(2, requires_grad=True)], **params)
    except Exception as error:  # torch raises ValueError, TypeError, RuntimeError, ... for values it refuses
        return f"torch refuses these values: {_one_line(error)}"
    return None


class TorchState(NamedTuple):
    tensors: tuple[Any, ...]  # one float64 tensor (d,) per start row
    optimizers: tuple[Any, ...]  # one instance per row, or one whose param group b holds row b's tensor
    groups: tuple[dict[str, Any], ...]  # row b's param group
    built: tuple[tuple[dict[str, Any], dict[str, Any]], ...]  # per row: keywords given, group as constructed


def torch_transform(cls: type, needs: frozenset[str], **params: Any) -> Transform:
    """Step `cls` with torch itself, each row on its own tensor and state. Every update writes this transform's
    hyperparameters into the rows' param groups first (those the constructor was given unchanged as the
    constructor left them: LBFGS turns max_eval=None into a number), so a schedule, which rebuilds the
    transform each step, changes lr as `scheduler.step()` does.

    Rows are param groups of one instance (torch keeps state per tensor and hyperparameters per group, so a
    row's step is the step it would take alone, and one `step()` call serves the batch), except for optimisers
    whose step takes a closure (L-BFGS style: one group only, a line search over all its parameters): those get
    one instance per row, and the engine's oracle serves each row's closure."""
    import torch

    per_row = "value" in needs
    rows_by_batch: dict[int, list[dict[str, Any]]] = {}  # each row's hyperparameters, computed once per batch size

    def row_values(batch: int) -> list[dict[str, Any]]:
        if batch not in rows_by_batch:
            rows_by_batch[batch] = [_row(params, b, batch) for b in range(batch)]
        return rows_by_batch[batch]

    def init(start: Array) -> TorchState:
        with _float64(torch):
            tensors = tuple(torch.tensor(row, dtype=torch.float64, requires_grad=True) for row in start)
            rows = row_values(len(start))
            if per_row:
                optimizers = tuple(cls([tensor], **values) for tensor, values in zip(tensors, rows))
            else:  # the constructor sees row 0's keywords (and normalises them); other rows add what differs
                optimizers = (cls([tensors[0]], **rows[0]),)
                for tensor, values in zip(tensors[1:], rows[1:]):
                    optimizers[0].add_param_group({"params": [tensor], **{
                        key: value for key, value in values.items() if not _same(value, rows[0][key])}})
        groups = tuple(group for optimizer in optimizers for group in optimizer.param_groups)
        built = tuple((values, {k: v for k, v in group.items() if k != "params"})
                      for values, group in zip(row_values(len(start)), groups))
        return TorchState(tensors, optimizers, groups, built)

    def update(grad: Array, state: TorchState, current: Array, value: Array | None = None,
               oracle: Any = None) -> tuple[Array, TorchState]:
        if per_row and (oracle is None or value is None):
            raise UsageError(f"{cls.__name__} steps with a closure, which needs function values; this engine "
                             f"supplies gradients only")
        new = np.empty_like(current)
        with _float64(torch):
            for b, (tensor, group, values) in enumerate(zip(state.tensors, state.groups, row_values(len(current)))):
                given, constructed = state.built[b]
                for key, setting in values.items():  # a changed value as given; else what the constructor made of it
                    if key in group:
                        group[key] = constructed[key] if _same(setting, given[key]) else setting
                with torch.no_grad():
                    tensor.copy_(torch.from_numpy(np.array(current[b])))
                tensor.grad = torch.from_numpy(np.array(grad[b], dtype=np.float64))
            blown = set()  # rows whose step torch could not finish because f blew up along its way
            for b, optimizer in enumerate(state.optimizers):
                closure = _closure(torch, state.tensors[b], b, value[b], grad[b], oracle) if per_row else None
                try:
                    optimizer.step(closure)
                except Exception as error:  # values torch accepted, then failed on
                    if closure is not None and closure.saw_non_finite:  # torch's own line search trips on a nan
                        blown.add(b)  # (an IndexError in torch 2.13's _strong_wolfe): the row diverged
                        continue
                    raise UsageError(f"{cls.__name__} failed to step ({_one_line(error)})") from error
            for b, tensor in enumerate(state.tensors):
                new[b] = np.nan if b in blown else tensor.detach().numpy()
        return new, state

    return Transform(init, update, needs)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _closure(torch: Any, tensor: Any, row: int, value: float, grad: Array, oracle: Any) -> Any:
    """torch's closure contract: set .grad at the tensor's current value and return the loss. The first call is at
    the step's parameters, where the engine already evaluated f and its gradient (`value`, `grad`); every further
    call asks the oracle, so the run's evaluations are what torch counts in `func_evals`."""
    first = [True]

    def closure() -> Any:
        if first[0]:
            first[0] = False
            loss, gradient = value, grad
        else:
            values, grads = oracle(tensor.detach().numpy()[None].copy(), np.array([row]))
            loss, gradient = values[0], grads[0]
        if not (np.isfinite(loss) and np.isfinite(gradient).all()):
            closure.saw_non_finite = True
        tensor.grad = torch.from_numpy(np.array(gradient, dtype=np.float64))
        return torch.tensor(float(loss), dtype=torch.float64)

    closure.saw_non_finite = False  # whether f or its gradient was ever inf or nan during this step
    return closure


def _row(params: Mapping[str, Any], row: int, rows: int) -> dict[str, Any]:
    """Row `row`'s hyperparameters: arrays broadcast over the batch (an lr of shape (B, 1)) give their row's float."""
    out = {}
    for key, value in params.items():
        if isinstance(value, np.ndarray):
            flat = value.reshape(-1)
            value = float(flat[row] if flat.size == rows else flat[0])
        elif isinstance(value, np.floating):
            value = float(value)
        elif isinstance(value, tuple):
            value = tuple(float(v) if isinstance(v, np.floating) else v for v in value)
        out[key] = value
    return out


@contextmanager
def _float64(torch: Any) -> Iterator[None]:
    """Parity is defined in float64: the optimiser's scalar state (step counts, NAdam's μ product) too."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)
