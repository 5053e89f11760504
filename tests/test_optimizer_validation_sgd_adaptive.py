"""Hyperparameter validation of sgd, momentum, nesterov, adagrad, rmsprop, adadelta and lion.

torch.optim is the judge: every value its constructor refuses, optviz refuses with a UsageError naming
the parameter, the value and the allowed range; every edge value it accepts, optviz accepts.
"""

from __future__ import annotations

import inspect

import pytest

from optviz.errors import UsageError
from optviz.optimizers import OPTIMIZERS
from tests.torch_reference import requires_torch, torch

OURS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "lion"]
WITH_TORCH = [name for name in OURS if OPTIMIZERS.get(name).torch_class is not None]

# torch.optim arguments that choose an implementation, not the algorithm
IMPLEMENTATION_KNOBS = {"self", "params", "foreach", "differentiable", "fused", "capturable"}


def torch_class(name: str):
    return getattr(torch.optim, OPTIMIZERS.get(name).torch_class)


def build_torch(name: str, given: dict):
    """torch's constructor with optviz's resolved defaults (so presets mean the same thing) plus `given`."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    return torch_class(name)([p], **{**OPTIMIZERS.get(name).defaults(), **given})


def refusal(name: str, given: dict) -> str:
    with pytest.raises(UsageError) as caught:
        OPTIMIZERS.get(name).resolve(given)
    message = str(caught.value)
    assert "\n" not in message
    return message


# (optimizer, values torch refuses, the parameter the message must name, the allowed range it must state)
REFUSED_BY_TORCH = [
    ("sgd", {"lr": -1e-3}, "lr", ">= 0"),
    ("sgd", {"momentum": -0.1}, "momentum", ">= 0"),
    ("sgd", {"weight_decay": -0.1}, "weight_decay", ">= 0"),
    ("sgd", {"nesterov": True}, "nesterov", "momentum > 0"),
    ("sgd", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov", "dampening = 0"),
    ("momentum", {"lr": -0.5}, "lr", ">= 0"),
    ("momentum", {"nesterov": True, "dampening": 0.5}, "nesterov", "dampening = 0"),
    ("nesterov", {"momentum": 0.0}, "nesterov", "momentum > 0"),
    ("adagrad", {"lr": -1e-2}, "lr", ">= 0"),
    ("adagrad", {"lr_decay": -0.1}, "lr_decay", ">= 0"),
    ("adagrad", {"weight_decay": -0.1}, "weight_decay", ">= 0"),
    ("adagrad", {"initial_accumulator_value": -0.1}, "initial_accumulator_value", ">= 0"),
    ("adagrad", {"eps": -1e-10}, "eps", ">= 0"),
    ("rmsprop", {"lr": -1e-2}, "lr", ">= 0"),
    ("rmsprop", {"alpha": -0.1}, "alpha", ">= 0"),
    ("rmsprop", {"eps": -1e-8}, "eps", ">= 0"),
    ("rmsprop", {"weight_decay": -0.1}, "weight_decay", ">= 0"),
    ("rmsprop", {"momentum": -0.1}, "momentum", ">= 0"),
    ("adadelta", {"lr": -1.0}, "lr", ">= 0"),
    ("adadelta", {"rho": -0.1}, "rho", "[0, 1]"),
    ("adadelta", {"rho": 1.01}, "rho", "[0, 1]"),
    ("adadelta", {"eps": -1e-6}, "eps", ">= 0"),
    ("adadelta", {"weight_decay": -0.1}, "weight_decay", ">= 0"),
]


@requires_torch
@pytest.mark.parametrize(("name", "given", "parameter", "allowed"), REFUSED_BY_TORCH,
                         ids=[f"{n}{g}" for n, g, _, _ in REFUSED_BY_TORCH])
def test_what_torch_refuses_is_refused_with_a_message_naming_it(name, given, parameter, allowed):
    with pytest.raises(ValueError):
        build_torch(name, given)
    message = refusal(name, given)
    assert message.startswith(f"{name}: ")
    assert parameter in message
    assert allowed in message
    for value in given.values():
        if not isinstance(value, bool):
            assert f"{value:g}" in message or repr(value) in message


# Edge values torch accepts (often surprisingly: negative dampening, momentum above 1, alpha above 1).
ACCEPTED_BY_TORCH = [
    ("sgd", {"lr": 0.0, "momentum": 0.0, "weight_decay": 0.0}),
    ("sgd", {"dampening": -0.5}),
    ("sgd", {"dampening": 2.0, "momentum": 0.5}),
    ("sgd", {"momentum": 1.5}),
    ("sgd", {"nesterov": True, "momentum": 1e-9, "dampening": 0.0}),
    ("sgd", {"lr": 1e6}),
    ("momentum", {"momentum": 0.0}),
    ("nesterov", {"momentum": 0.99}),
    ("adagrad", {"lr": 0.0, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 0.0}),
    ("adagrad", {"lr_decay": 10.0, "initial_accumulator_value": 100.0}),
    ("rmsprop", {"lr": 0.0, "alpha": 0.0, "eps": 0.0, "weight_decay": 0.0, "momentum": 0.0}),
    ("rmsprop", {"alpha": 1.5, "momentum": 2.0, "centered": True}),
    ("adadelta", {"lr": 0.0, "rho": 0.0, "eps": 0.0, "weight_decay": 0.0}),
    ("adadelta", {"rho": 1.0}),
]


@requires_torch
@pytest.mark.parametrize(("name", "given"), ACCEPTED_BY_TORCH, ids=[f"{n}{g}" for n, g in ACCEPTED_BY_TORCH])
def test_what_torch_accepts_is_accepted(name, given):
    build_torch(name, given)
    resolved = OPTIMIZERS.get(name).resolve(given)
    assert {k: resolved[k] for k in given} == given


LION_REFUSED = [
    ({"lr": -1e-4}, "lr", ">= 0"),
    ({"betas": (1.0, 0.99)}, "betas", "[0, 1)"),
    ({"betas": (0.9, 1.0)}, "betas", "[0, 1)"),
    ({"betas": (-0.1, 0.99)}, "betas", "[0, 1)"),
    ({"weight_decay": -0.1}, "weight_decay", ">= 0"),
]


@pytest.mark.parametrize(("given", "parameter", "allowed"), LION_REFUSED, ids=[str(g) for g, _, _ in LION_REFUSED])
def test_lion_refuses_values_outside_the_papers_ranges(given, parameter, allowed):
    message = refusal("lion", given)
    assert parameter in message and allowed in message and repr(given[parameter]) in message


def test_lion_accepts_its_edge_values():
    given = {"lr": 0.0, "betas": (0.0, 0.0), "weight_decay": 0.0, "maximize": True}
    assert OPTIMIZERS.get("lion").resolve(given) == given


WRONG_TYPES = [
    ("sgd", {"lr": "fast"}, "lr", "number"),
    ("sgd", {"lr": None}, "lr", "number"),
    ("sgd", {"momentum": True}, "momentum", "number"),
    ("sgd", {"nesterov": 1}, "nesterov", "true or false"),
    ("sgd", {"lr": float("nan")}, "lr", "finite"),
    ("adagrad", {"eps": float("inf")}, "eps", "finite"),
    ("rmsprop", {"centered": "yes"}, "centered", "true or false"),
    ("adadelta", {"rho": (0.9, 0.9)}, "rho", "number"),
    ("lion", {"betas": 0.9}, "betas", "pair"),
    ("lion", {"betas": (0.9,)}, "betas", "pair"),
    ("lion", {"betas": ("0.9", 0.99)}, "betas", "pair"),
]


@pytest.mark.parametrize(("name", "given", "parameter", "expected"), WRONG_TYPES,
                         ids=[f"{n}{g}" for n, g, _, _ in WRONG_TYPES])
def test_wrong_types_are_refused(name, given, parameter, expected):
    message = refusal(name, given)
    assert parameter in message and expected in message


@pytest.mark.parametrize("name", OURS)
def test_an_unknown_keyword_lists_the_valid_ones(name):
    message = refusal(name, {"learning_rate": 0.1})
    assert "learning_rate" in message
    for hyperparameter in OPTIMIZERS.get(name).hyperparameters:
        assert hyperparameter.name in message


@requires_torch
@pytest.mark.parametrize("name", [n for n in WITH_TORCH if n not in ("momentum", "nesterov")])
def test_every_torch_hyperparameter_with_torchs_default(name):
    signature = inspect.signature(torch_class(name).__init__).parameters
    torch_defaults = {k: p.default for k, p in signature.items() if k not in IMPLEMENTATION_KNOBS}
    assert OPTIMIZERS.get(name).defaults() == torch_defaults


def test_momentum_and_nesterov_are_sgd_presets():
    sgd = OPTIMIZERS.get("sgd")
    assert OPTIMIZERS.get("gd") is sgd
    assert OPTIMIZERS.get("momentum").defaults() == {**sgd.defaults(), "momentum": 0.9}
    assert OPTIMIZERS.get("nesterov").defaults() == {**sgd.defaults(), "momentum": 0.9, "nesterov": True}
    assert {OPTIMIZERS.get(name).make for name in ("momentum", "nesterov")} == {sgd.make}
