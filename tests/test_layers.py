"""The cached layers a frame starts from: the legend and the readout are redrawn only when their keys change."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from optviz.render.layers import Layers
from optviz.render.scene import RaceScene
from tests.test_scene import STEPS, hand_race


class FakeCanvas:
    """Pixels as a list of what was drawn; copies are snapshots of it."""

    def __init__(self):
        self.figure = SimpleNamespace(bbox=None)
        self.shown: list[str] = []

    def restore_region(self, region):
        self.shown = list(region)

    def copy_from_bbox(self, bbox):
        return tuple(self.shown)


def test_each_layer_is_redrawn_only_when_its_key_changes():
    canvas, drawn = FakeCanvas(), []

    class Numbers:
        def draw(self, step):
            drawn.append(f"numbers {step}")
            canvas.shown.append(f"numbers {step}")

    layers = Layers(canvas, ("base",), Numbers())

    def legend(text):
        return lambda: (drawn.append(text), canvas.shown.append(text))

    layers.restore(0, legend("legend 0"), 0)
    assert canvas.shown == ["base", "legend 0", "numbers 0"]
    layers.restore(0, legend("legend 0"), 0)
    assert drawn == ["legend 0", "numbers 0"] and canvas.shown == ["base", "legend 0", "numbers 0"]
    layers.restore(0, legend("legend 0"), 6)  # the numbers refresh over the same legend
    assert drawn[-1] == "numbers 6" and canvas.shown == ["base", "legend 0", "numbers 6"]
    layers.restore(1, legend("legend 1"), 6)  # a new legend: the numbers drawn over it again
    assert drawn[-2:] == ["legend 1", "numbers 6"] and canvas.shown == ["base", "legend 1", "numbers 6"]
    assert len(drawn) == 5


def test_without_a_readout_only_the_legend_layer_is_kept():
    canvas, drawn = FakeCanvas(), []
    layers = Layers(canvas, ("base",))
    for step in range(5):  # the step changes every frame; with no readout nothing is redrawn for it
        layers.restore(0, lambda: (drawn.append("legend"), canvas.shown.append("legend")), step)
    assert drawn == ["legend"] and canvas.shown == ["base", "legend"]


def test_an_animation_draws_the_legend_once_per_divergence(monkeypatch):
    view = RaceScene(hand_race(), size=(800, 600))
    calls = []
    original = view._set_legend
    monkeypatch.setattr(view, "_set_legend", lambda step: (calls.append(step), original(step)))
    draw = view.frame_drawer(np.arange(STEPS + 1), fps=30)
    frames = [draw(step) for step in range(STEPS + 1)]
    assert len(calls) == 2  # once at the start, once when the second run diverges
    assert np.array_equal(frames[-1], view.render(STEPS))
    view.close()
