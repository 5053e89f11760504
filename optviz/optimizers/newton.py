"""Damped Newton's method: the step that jumps to the critical point of the local quadratic model.

Newton's method looks for a point where the gradient vanishes, whatever kind: from where the Hessian is indefinite
it heads for a saddle, from where it is negative definite for a maximum, and it gets there just as fast as to a
minimum. That is not hidden here; it is the lesson (docs/second-order.md).

torch.optim has no Newton optimiser (torch_class None): the parity test steps it against a Newton step computed
from torch.autograd.functional.hessian.
"""

from __future__ import annotations

import numpy as np

from optviz.optimizers.base import Array, Hyperparameter, OptimizerDef, Transform, at_least, learning_rate


def make_newton(*, lr, damping) -> Transform:
    """Damped Newton (Levenberg's damping of the Hessian; Nocedal & Wright 2006, section 3.4):

        A = ∇²f(θ) + damping I
        θ <- θ - lr A⁻¹ ∇f(θ)

    Where A is singular (numerically: its rank, by numpy's SVD tolerance, is below d; a flat direction with
    damping 0), the step is the least-squares one, θ <- θ - lr A⁺ ∇f with A⁺ the pseudo-inverse: it moves only
    along the directions with curvature (the minimum-norm solution of A p = ∇f). Where A or ∇f is not finite,
    the step is nan, so the row is flagged diverged. Nothing else is changed: an indefinite A is solved as it is.
    """

    def init(params: Array) -> tuple[()]:
        return ()  # Newton remembers nothing between steps

    def update(grad: Array, state: tuple[()], params: Array, *, hessian: Array) -> tuple[Array, tuple[()]]:
        dimensions = params.shape[-1]
        system = hessian + np.asarray(damping, dtype=np.float64)[..., None] * np.eye(dimensions)
        step = np.full_like(params, np.nan)
        finite = np.isfinite(system).all(axis=(-2, -1)) & np.isfinite(grad).all(axis=-1)
        regular = finite.copy()
        if finite.any():
            regular[finite] = np.linalg.matrix_rank(system[finite]) == dimensions
        if regular.any():
            step[regular] = np.linalg.solve(system[regular], grad[regular][..., None])[..., 0]
        singular = finite & ~regular
        if singular.any():
            step[singular] = (np.linalg.pinv(system[singular]) @ grad[singular][..., None])[..., 0]
        return params - lr * step, state

    return Transform(init, update, frozenset({"gradient", "hessian"}))


newton = OptimizerDef(
    name="newton",
    summary="damped Newton's method: jumps to the critical point (minimum, saddle or maximum) of the local quadratic",
    reference="Newton-Raphson; Levenberg 1944; Nocedal & Wright 2006, section 3.4",
    hyperparameters=(
        learning_rate(1.0, "fraction of the Newton step taken (1: the full step)"),
        Hyperparameter("damping", 1e-3, "added to the Hessian's diagonal (0: the pure Newton step)", at_least(0)),
    ),
    make=make_newton,
    torch_class=None,
    tune_lr=False,
)
