"""Hyperparameter validation of the Adam family, judged against torch.optim's own constructors.

What torch refuses we refuse (with a one-line UsageError naming the parameter, the value and the allowed
range); what torch accepts at the edge of the range we accept; our hyperparameters are exactly torch's
math-affecting constructor arguments with torch's defaults.
"""

from __future__ import annotations

import inspect
import math

import pytest

from optviz.errors import UsageError
from optviz.optimizers import OPTIMIZERS
from tests.torch_reference import requires_torch, torch

ADAM_FAMILY = ("adam", "adamw", "adamax", "nadam", "radam")

# torch arguments that pick an implementation (or are the parameters themselves) and never change the math
NOT_MATH = {"self", "params", "foreach", "capturable", "differentiable", "fused"}


def make_torch(name: str, **hyperparameters):
    torch_class = getattr(torch.optim, OPTIMIZERS.get(name).torch_class)
    return torch_class([torch.zeros(2, dtype=torch.float64, requires_grad=True)], **hyperparameters)


def torch_defaults(name: str) -> dict:
    torch_class = getattr(torch.optim, OPTIMIZERS.get(name).torch_class)
    signature = inspect.signature(torch_class.__init__)
    return {k: p.default for k, p in signature.parameters.items() if k not in NOT_MATH}


def test_the_family_is_registered_with_its_torch_classes():
    assert {name: OPTIMIZERS.get(name).torch_class for name in ADAM_FAMILY} == {
        "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam", "radam": "RAdam",
    }


@requires_torch
@pytest.mark.parametrize("name", ADAM_FAMILY)
def test_hyperparameters_are_torchs_with_torchs_defaults(name):
    ours = OPTIMIZERS.get(name).defaults()
    theirs = torch_defaults(name)
    assert list(ours) == [k for k in theirs if k in ours]  # same names, in torch's order
    assert ours == theirs


BAD_VALUES = [
    ("lr", -1e-3),
    ("lr", math.nan),
    ("eps", -1e-12),
    ("betas", (1.0, 0.999)),
    ("betas", (0.9, 1.0)),
    ("betas", (-0.1, 0.999)),
    ("betas", (0.9, -1e-9)),
    ("weight_decay", -1e-2),
]
BAD = [(name, key, value) for name in ADAM_FAMILY for key, value in BAD_VALUES] + [
    ("nadam", "momentum_decay", -1e-3),
]


@requires_torch
@pytest.mark.parametrize(("name", "key", "value"), BAD, ids=lambda x: repr(x))
def test_what_torch_refuses_we_refuse_naming_parameter_value_and_range(name, key, value):
    with pytest.raises(ValueError):
        make_torch(name, **{key: value})
    with pytest.raises(UsageError) as refused:
        OPTIMIZERS.get(name).resolve({key: value})
    message = str(refused.value)
    assert message.startswith(f"{name}: {key} ")
    assert " must " in message and repr(value) in message
    assert "\n" not in message


EDGE_VALUES = [
    ("lr", 0.0),
    ("lr", 10.0),
    ("eps", 0.0),
    ("betas", (0.0, 0.0)),
    ("betas", (0.999999, 0.999999)),
    ("weight_decay", 0.0),
    ("weight_decay", 100.0),
]
EDGE = [(name, key, value) for name in ADAM_FAMILY for key, value in EDGE_VALUES] + [
    ("nadam", "momentum_decay", 0.0),
]


@requires_torch
@pytest.mark.parametrize(("name", "key", "value"), EDGE, ids=lambda x: repr(x))
def test_what_torch_accepts_at_the_edge_we_accept(name, key, value):
    make_torch(name, **{key: value})
    assert OPTIMIZERS.get(name).resolve({key: value})[key] == value


@requires_torch
@pytest.mark.parametrize("name", ADAM_FAMILY)
def test_an_unknown_keyword_lists_the_valid_ones(name):
    definition = OPTIMIZERS.get(name)
    with pytest.raises(TypeError):
        make_torch(name, momentum=0.9)
    with pytest.raises(UsageError) as refused:
        definition.resolve({"momentum": 0.9})
    message = str(refused.value)
    assert "'momentum'" in message
    for valid in definition.defaults():
        assert valid in message


@requires_torch
def test_adamw_has_no_decoupled_weight_decay_switch_just_as_torch():
    with pytest.raises(TypeError):
        make_torch("adamw", decoupled_weight_decay=False)
    with pytest.raises(UsageError, match="decoupled_weight_decay"):
        OPTIMIZERS.get("adamw").resolve({"decoupled_weight_decay": False})


WRONG_TYPES = [
    ("lr", "0.01"),
    ("lr", True),
    ("lr", None),
    ("eps", [1e-8]),
    ("betas", 0.9),
    ("betas", (0.9,)),
    ("betas", (0.9, 0.99, 0.999)),
    ("betas", ("0.9", 0.999)),
    ("amsgrad", 1),
    ("maximize", "yes"),
    ("decoupled_weight_decay", 0),
    ("momentum_decay", "4e-3"),
]
WRONG = [(name, key, value) for name in ADAM_FAMILY for key, value in WRONG_TYPES
         if key in OPTIMIZERS.get(name).defaults()]


@pytest.mark.parametrize(("name", "key", "value"), WRONG, ids=lambda x: repr(x))
def test_wrong_types_are_refused(name, key, value):
    with pytest.raises(UsageError) as refused:
        OPTIMIZERS.get(name).resolve({key: value})
    assert f"{key} must be" in str(refused.value)
    assert repr(value) in str(refused.value)
