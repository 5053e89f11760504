"""The function type: one or two coordinates, and the two states of 'where f is lowest' kept apart."""

from __future__ import annotations

import numpy as np
import pytest

from optviz import engine
from optviz.functions import FUNCTIONS, TestFunction
from optviz.functions.base import Minima, Unbounded, inside_box, literature
from optviz.optimizers import OPTIMIZERS

PARABOLA = TestFunction(
    name="parabola", formula="x^2", value=lambda x: x * x, grad=lambda x: (2 * x,),
    hessian=lambda x: (np.full_like(x, 2.0),), domain=((-4.0, 4.0),), optimum=literature(((0.0,),), 0.0),
    default_start=(3.0,), default_steps=10, log_scale=True,
)


def test_every_builtin_is_two_dimensional_and_says_where_its_minimum_is():
    for function in FUNCTIONS:
        assert function.dimensions == 2 and function.coordinates == ("x", "y")
        assert isinstance(function.optimum, Minima | Unbounded)
        if isinstance(function.optimum, Minima):
            # Published minima, except the model landscapes' (a mean over data): found numerically, none on an edge.
            expected = "numerical" if function.dataset is not None else "literature"
            assert function.optimum.source == expected and not function.optimum.on_edge
            assert function.f_min == function.optimum.value and function.minima
        else:
            assert function.f_min is None and function.minima == ()
    assert {f.name for f in FUNCTIONS if isinstance(f.optimum, Unbounded)} == {"saddle", "monkey-saddle"}


def test_a_minimum_found_on_the_edge_is_no_f_star():
    edge = Minima(points=((4.0,),), value=-16.0, source="numerical", on_edge=True)
    assert edge.f_star is None
    assert Minima(points=((0.0,),), value=0.0, source="numerical").f_star == 0.0


def test_hessian_at_assembles_the_symmetric_matrix():
    fn = FUNCTIONS.get("rosenbrock")
    points = np.array([[0.5, -0.3], [1.0, 1.0]])
    fxx, fxy, fyy = fn.hessian(points[:, 0], points[:, 1])
    matrix = fn.hessian_at(points)
    assert matrix.shape == (2, 2, 2)
    np.testing.assert_array_equal(matrix[:, 0, 0], fxx)
    np.testing.assert_array_equal(matrix[:, 0, 1], fxy)
    np.testing.assert_array_equal(matrix[:, 1, 0], fxy)
    np.testing.assert_array_equal(matrix[:, 1, 1], fyy)


def test_one_dimensional_function_runs_through_the_same_engine():
    sgd = OPTIMIZERS.get("sgd")
    transform = sgd.build(sgd.resolve({"lr": 0.1}))
    result = engine.run(PARABOLA, [transform], np.array([[3.0]]), 5)
    assert result.positions.shape == (6, 1, 1, 1)
    np.testing.assert_allclose(result.positions[:, 0, 0, 0], 3.0 * 0.8 ** np.arange(6))
    assert PARABOLA.hessian_at(np.array([[1.0]])).shape == (1, 1, 1)


def test_points_with_the_wrong_number_of_coordinates_are_refused():
    with pytest.raises(ValueError, match="1 coordinates"):
        PARABOLA.value_at(np.zeros((3, 2)))
    assert inside_box(np.array([[0.0], [5.0]]), PARABOLA.domain).tolist() == [True, False]
