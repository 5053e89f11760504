"""L-BFGS, step for step as torch.optim.LBFGS, with its fixed step or its strong-Wolfe line search.

One race step is one `LBFGS.step(closure)`: a whole inner loop of up to `max_iter` quasi-Newton iterations, each
evaluating f and its gradient once (or several times, in the line search), so a step costs many evaluations and
`Trajectories.evaluations` counts them exactly as torch counts `state["func_evals"]`: the step's first
evaluation is the engine's own (`value`, `grad`), every later one is an oracle call.

Each start point (row) is its own optimiser instance with its own memory, as torch with one tensor per row: rows
finish their inner loops at different iterations. The loop is written once, for one row, as torch writes it; it is
a generator that yields each point it wants f and ∇f at, so one oracle call serves every row waiting for one.

Nocedal & Wright, "Numerical Optimization" (2006), algorithms 7.4 (the two-loop recursion) and 3.5-3.6 (the
strong-Wolfe line search, here as torch ports it from minFunc / torch7's lswolfe.lua).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Generator
from typing import Any, NamedTuple

import numpy as np

from optviz.optimizers.base import (
    Array,
    Hyperparameter,
    OptimizerDef,
    Transform,
    at_least,
    in_interval,
    learning_rate,
)

# torch's constants: the curvature pair is kept when y·s exceeds this; the Wolfe constants.
CURVATURE_THRESHOLD = 1e-10
ARMIJO_C1, CURVATURE_C2 = 1e-4, 0.9
# torch takes any max_iter; a race refuses more than this, so that no spec runs for hours: one race step is one
# LBFGS.step(), and 100000 steps of 1250 evaluations are already 1.25e8 (minutes of stepping with progress shown).
MAX_ITER = 1000
_SPLIT = 134217729.0  # 2^27 + 1, Veltkamp's splitting constant for float64

Vector = tuple[float, ...]  # one row's parameters or gradient, d floats
# A row's inner loop: yields points, is sent (f, ∇f) at each, returns (new position, new memory).
Evaluations = Generator[Vector, tuple[float, Vector], Any]


class Memory(NamedTuple):
    """One row's L-BFGS state between steps (torch's `state`, without the evaluation count the engine keeps)."""

    d: Vector | None  # the last search direction
    t: float | None  # the last step length along it
    old_dirs: tuple[Vector, ...]  # y_i = ∇f_{i+1} - ∇f_i, oldest first, at most history_size
    old_stps: tuple[Vector, ...]  # s_i = t_i d_i
    ro: tuple[float, ...]  # ρ_i = 1 / (y_i · s_i)
    H_diag: float  # γ = (y · s) / (y · y) of the newest pair: the initial inverse Hessian is γ I
    prev_flat_grad: Vector | None  # ∇f where the last iteration started
    n_iter: int  # inner iterations over all steps so far


class LBFGSState(NamedTuple):
    rows: tuple[Memory, ...]


FRESH = Memory(None, None, (), (), (), 1.0, None, 0)


def make_lbfgs(*, lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size,
               line_search_fn) -> Transform:
    """torch.optim.LBFGS. One step, from x with f and g = ∇f(x), per inner iteration:

        stop if max|g| <= tolerance_grad (before the first iteration) or g·d > -tolerance_change
        y = g - g_prev,  s = t d_prev;  keep (y, s, ρ = 1/(y·s)) if y·s > 1e-10, γ = (y·s)/(y·y)
        d = -H g  by the two-loop recursion over the kept pairs, H_0 = γ I      (d = -g on the very first one)
        t = min(1, 1/Σ|g|) lr  on the very first iteration, else lr
        x <- x + t d   (t from the strong-Wolfe search started at that t, when line_search_fn='strong_wolfe')

    and it stops after max_iter iterations, max_eval evaluations (None: max_iter * 5 // 4), when max|g| <=
    tolerance_grad, when max|t d| <= tolerance_change, or when |f - f_prev| < tolerance_change.
    """
    budget = max_iter * 5 // 4 if max_eval is None else max_eval
    settings = (max_iter, budget, tolerance_grad, tolerance_change, history_size, line_search_fn == "strong_wolfe")

    def init(params: Array) -> LBFGSState:
        return LBFGSState((FRESH,) * len(params))

    def update(grad: Array, state: LBFGSState, params: Array, *, value: Array,
               oracle: Any) -> tuple[Array, LBFGSState]:
        rates = np.broadcast_to(np.asarray(lr, dtype=np.float64).reshape(-1, 1), (len(params), 1))[:, 0]
        new, memories = params.copy(), list(state.rows)
        loops = [_inner_loop(tuple(params[b].tolist()), float(value[b]), tuple(grad[b].tolist()), state.rows[b],
                             float(rates[b]), *settings) for b in range(len(params))]
        waiting: dict[int, Vector] = {}

        def resume(b: int, sent: tuple[float, Vector] | None) -> None:
            try:
                waiting[b] = loops[b].send(sent)
            except StopIteration as finished:
                new[b], memories[b] = finished.value

        with np.errstate(all="ignore"):  # a diverging row computes with inf and nan, as torch does
            for b in range(len(params)):
                resume(b, None)
            while waiting:  # every row waiting for an evaluation is served by one oracle call
                rows = np.fromiter(waiting, dtype=np.int64, count=len(waiting))
                values, grads = oracle(np.array([waiting.pop(int(b)) for b in rows]), rows)
                for b, f, g in zip(rows.tolist(), values.tolist(), np.asarray(grads).tolist()):
                    resume(b, (f, tuple(g)))
        return new, LBFGSState(tuple(memories))

    return Transform(init, update, frozenset({"gradient", "value"}))


def _inner_loop(x: Vector, loss: float, flat_grad: Vector, memory: Memory, lr: float, max_iter: int, max_eval: int,
                tolerance_grad: float, tolerance_change: float, history_size: int,
                strong_wolfe: bool) -> Evaluations:
    """`LBFGS.step` for one row, from x where f = loss and ∇f = flat_grad (the step's first evaluation)."""
    current_evals = 1
    if _abs_max(flat_grad) <= tolerance_grad:
        return x, memory
    d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, total_iter = memory
    old_dirs, old_stps, ro = list(old_dirs), list(old_stps), list(ro)
    opt_cond = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        total_iter += 1
        if total_iter == 1:
            d = tuple(-g for g in flat_grad)
            old_dirs, old_stps, ro = [], [], []
            H_diag = 1.0
        else:
            y = tuple(g - p for g, p in zip(flat_grad, prev_flat_grad))
            s = tuple(e * t for e in d)
            ys = _dot(y, s)
            if ys > CURVATURE_THRESHOLD:
                if len(old_dirs) == history_size:  # limited memory: forget the oldest pair
                    old_dirs.pop(0)
                    old_stps.pop(0)
                    ro.pop(0)
                old_dirs.append(y)
                old_stps.append(s)
                ro.append(1.0 / ys)
                H_diag = _divide(ys, _dot(y, y))
            d = _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag)
        prev_flat_grad = flat_grad
        prev_loss = loss
        if total_iter == 1:  # torch's min(1, 1/Σ|g|) is a tensor when the tensor is the smaller
            scale = _divide(1.0, _abs_sum(flat_grad))
            t = _TensorScalar(scale * lr) if scale < 1.0 else 1.0 * lr
        else:
            t = lr
        gtd = _dot(flat_grad, d)
        if gtd > -tolerance_change:  # not a descent direction (to the tolerance)
            break
        ls_func_evals = 0
        if strong_wolfe:
            loss, flat_grad, t, ls_func_evals = yield from _strong_wolfe(
                x, t, d, loss, flat_grad, gtd, tolerance_change, max_ls=max_eval - current_evals)
            x = _axpy(x, t, d)
            opt_cond = _abs_max(flat_grad) <= tolerance_grad
        else:
            x = _axpy(x, t, d)
            if n_iter != max_iter:  # torch does not evaluate after the last iteration: the next step does
                loss, flat_grad = yield x
                opt_cond = _abs_max(flat_grad) <= tolerance_grad
                ls_func_evals = 1
        current_evals += ls_func_evals
        if n_iter == max_iter or current_evals >= max_eval or opt_cond:
            break
        if _abs_max(tuple(e * t for e in d)) <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
            break  # no progress
    return x, Memory(d, t, tuple(old_dirs), tuple(old_stps), tuple(ro), H_diag, prev_flat_grad, total_iter)


def _two_loop(flat_grad: Vector, old_dirs: list[Vector], old_stps: list[Vector], ro: list[float],
              H_diag: float) -> Vector:
    """d = -H ∇f, H the L-BFGS inverse Hessian of the kept pairs (Nocedal & Wright algorithm 7.4)."""
    al = [0.0] * len(old_dirs)
    q = tuple(-g for g in flat_grad)
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = _dot(old_stps[i], q) * ro[i]
        q = _axpy(q, -al[i], old_dirs[i])
    r = tuple(e * H_diag for e in q)
    for i in range(len(old_dirs)):
        be_i = _dot(old_dirs[i], r) * ro[i]
        r = _axpy(r, al[i] - be_i, old_stps[i])
    return r


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (x1, f1, f1' = g1) and (x2, f2, g2), clamped to `bounds` (default: the
    interval between x1 and x2); their midpoint when the cubic has no minimum (torch7's polyinterp). In numpy
    float64, as torch computes it in 0-d tensors (a degenerate bracket divides by zero into inf or nan), and with
    torch's types: the slopes g are tensors, the values f Python floats, and the result is whichever of the
    minimiser (a tensor) or a bound Python's min and max pick."""
    xmin_bound, xmax_bound = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    tensor_x = isinstance(x1, _TensorScalar) or isinstance(x2, _TensorScalar)
    x1, f1, g1, x2, f2, g2 = (np.float64(v) for v in (x1, f1, g1, x2, f2, g2))
    # torch divides the Python number 3 (f1 - f2) by the tensor x1 - x2 as reciprocal(x1 - x2) * 3 (f1 - f2)
    secant = 3 * (f1 - f2) * (1.0 / (x1 - x2)) if tensor_x else 3 * (f1 - f2) / (x1 - x2)
    d1 = g1 + g2 - secant
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = _sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(_TensorScalar(min_pos), xmin_bound), xmax_bound)
    return _as((xmin_bound + xmax_bound) / 2.0, xmin_bound, xmax_bound)


def _strong_wolfe(x: Vector, t: float, d: Vector, f: float, g: Vector, gtd: float, tolerance_change: float,
                  max_ls: int) -> Evaluations:
    """A step length t along d satisfying the strong Wolfe conditions

        f(x + t d) <= f + c1 t ∇f·d          (sufficient decrease, c1 = 1e-4)
        |∇f(x + t d)·d| <= -c2 ∇f·d           (curvature, c2 = 0.9)

    by bracketing (cubic extrapolation) then zooming (cubic interpolation, kept 10% away from the bracket's ends),
    at most max_ls evaluations after the first (L-BFGS passes what is left of max_eval). Returns (f, ∇f, t,
    evaluations) at the accepted point."""
    d_norm = _abs_max(d)
    f_new, g_new = yield _axpy(x, t, d)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # bracket an interval holding a point that satisfies the conditions
        if f_new > (f + ARMIJO_C1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -CURVATURE_C2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = _as(t + 0.01 * (t - t_prev), t, t_prev)
        max_step = _as(t * 10, t)
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = yield _axpy(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    # zoom: shrink the bracket until its low end satisfies the conditions
    insuf_progress = False
    # torch's comparison, except where the one-point bracket's f is nan (f overflowed: inf - inf), which would
    # make torch index past that point (an IndexError): the run diverges instead, as any other run that blows up
    low_pos, high_pos = (0, 1) if len(bracket) == 1 or bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the bracket is too small
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        eps = _as(0.1 * (max(bracket) - min(bracket)), *bracket)
        if min(max(bracket) - t, t - min(bracket)) < eps:  # too close to an end of the bracket
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = _as(max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps,
                        eps)
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = yield _axpy(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
        if f_new > (f + ARMIJO_C1 * t * gtd) or f_new >= bracket_f[low_pos]:  # not low enough: a new high end
            bracket[high_pos], bracket_f[high_pos], bracket_g[high_pos], bracket_gtd[high_pos] = \
                t, f_new, g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -CURVATURE_C2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:  # the old low end becomes the high end
                bracket[high_pos], bracket_f[high_pos], bracket_g[high_pos], bracket_gtd[high_pos] = \
                    bracket[low_pos], bracket_f[low_pos], bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos], bracket_g[low_pos], bracket_gtd[low_pos] = t, f_new, g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class _TensorScalar(float):
    """A step length that torch holds as a 0-d tensor rather than a Python float. The numbers are the same, with
    one exception: torch divides a Python number by a tensor as the tensor's reciprocal times the number (two
    roundings), so `_cubic_interpolate` must know. Arithmetic gives plain floats; `_as` marks results again."""


def _sqrt(value: float) -> float:
    """The correctly rounded square root. torch's CPU sqrt (in the official wheels) is off by one ulp for about 1% of
    arguments; that is the one operation of this module whose rounding differs from torch's (the parity tests
    swap torch's in, and the paths are then bit for bit torch's)."""
    return np.sqrt(value)


def _as(value: float, *operands: float) -> float:
    """`value` marked as a tensor if any operand is one (torch's result type of an operation on them)."""
    return _TensorScalar(value) if any(isinstance(v, _TensorScalar) for v in operands) else float(value)


# --- one row's vector arithmetic, in Python floats (IEEE float64, like numpy, and far faster on d <= 2 numbers),
# --- rounded as torch's CPU kernels round: a dot product as a plain sum of products, `a.add_(b, alpha=t)` fused


def _dot(a: Vector, b: Vector) -> float:
    total = 0.0
    for u, v in zip(a, b):
        total += u * v
    return total


def _abs_max(a: Vector) -> float:
    """max |a_i|, nan if any entry is nan (as torch's max)."""
    magnitudes = [abs(u) for u in a]
    return math.nan if any(m != m for m in magnitudes) else max(magnitudes)


def _abs_sum(a: Vector) -> float:
    total = 0.0
    for u in a:
        total += abs(u)
    return total


def _divide(a: float, b: float) -> float:
    """a / b in IEEE arithmetic (inf or nan for b = 0, where Python would raise)."""
    return a / b if b != 0 else float(np.float64(a) / np.float64(b))


def _axpy(x: Vector, alpha: float, d: Vector) -> Vector:
    """x + alpha d with one rounding per entry, as torch's `x.add(d, alpha=alpha)` computes it (a fused
    multiply-add)."""
    return tuple(_fma(alpha, v, u) for u, v in zip(x, d))


def _fma(a: float, b: float, c: float) -> float:
    """a b + c rounded once: the exact product by Dekker's TwoProduct (Veltkamp splitting), the exact sum with c by
    Knuth's TwoSum, and the two error terms added with rounding to odd, which makes the final rounding correct
    (Boldo & Melquiond 2008, "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to
    odd"). Where the splitting overflows (|a| or |b| beyond 2^996), the plain a b + c."""
    product = a * b
    p = _SPLIT * a
    a_high = p - (p - a)
    a_low = a - a_high
    p = _SPLIT * b
    b_high = p - (p - b)
    b_low = b - b_high
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = c + product
    z = total - c
    total_error = (c - (total - z)) + (product - z)
    odd = total_error + product_error
    z = odd - total_error
    rest = (total_error - (odd - z)) + (product_error - z)  # what rounding dropped from odd (TwoSum again)
    if rest != 0 and not struct.unpack("<q", struct.pack("<d", odd))[0] & 1:  # inexact and even: to the odd side
        odd = math.nextafter(odd, math.inf if rest > 0 else -math.inf)
    result = total + odd
    return result if math.isfinite(result) else product + c


lbfgs = OptimizerDef(
    name="lbfgs",
    summary="limited-memory BFGS: quasi-Newton steps, a whole inner loop of evaluations per step",
    reference="Liu & Nocedal 1989; Nocedal & Wright 2006 (alg. 7.4, 3.5); torch.optim.LBFGS",
    hyperparameters=(
        learning_rate(1.0, "step length along the quasi-Newton direction (the line search's first guess)"),
        Hyperparameter("max_iter", 20, "inner iterations per step", in_interval(1, MAX_ITER, closed_high=True),
                       type="int"),
        Hyperparameter("max_eval", None, "evaluations per step (none: max_iter * 5 // 4)",
                       in_interval(1, MAX_ITER * 5 // 4, closed_high=True), type="int", optional=True),
        Hyperparameter("tolerance_grad", 1e-7, "stop when max |∇f| is at most this", at_least(0)),
        Hyperparameter("tolerance_change", 1e-9, "stop when f or the position changes less than this",
                       at_least(0)),
        Hyperparameter("history_size", 100, "curvature pairs (y, s) remembered", at_least(1), type="int"),
        Hyperparameter("line_search_fn", None, "none (a fixed step lr) or 'strong_wolfe'", type="choice",
                       choices=("strong_wolfe",), optional=True),
    ),
    make=make_lbfgs,
    torch_class="LBFGS",
    tune_lr=False,
)
