"""The registry of built-in test functions, keyed by CLI name."""

from optviz.functions.base import TestFunction
from optviz.functions.builtins import BUILTIN_FUNCTIONS
from optviz.registry import Registry

FUNCTIONS: Registry[TestFunction] = Registry("function", BUILTIN_FUNCTIONS)

__all__ = ["FUNCTIONS", "TestFunction"]
