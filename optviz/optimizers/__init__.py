"""The registry of optimisers, keyed by CLI name (torch.optim's names, lower case)."""

from optviz.optimizers.adam import adam, adamax, adamw, nadam, radam
from optviz.optimizers.adaptive import adadelta, adagrad, rmsprop
from optviz.optimizers.base import Hyperparameter, OptimizerDef, Transform
from optviz.optimizers.lbfgs import lbfgs
from optviz.optimizers.lion import lion
from optviz.optimizers.newton import newton
from optviz.optimizers.sgd import momentum, nesterov, sgd
from optviz.registry import Registry

OPTIMIZERS: Registry[OptimizerDef] = Registry(
    "optimizer",
    [sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, adamax, nadam, radam, adadelta, lion, lbfgs, newton],
)

__all__ = ["OPTIMIZERS", "Hyperparameter", "OptimizerDef", "Transform"]
