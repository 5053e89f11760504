"""Labels that tell the truth: in the legend and the JSON, a run's label shows every setting that differs from
its optimiser's defaults, marks a tuned lr, shows schedule and clipping, and numbers are formatted alike."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optviz
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.racing import Run, label_runs, resolve_runs, run_race
from optviz.render.labels import legend_labels
from optviz.specs import format_number, parse_optimizer_list


def labels(*texts: str, **keywords) -> list[str]:
    return [run.label for run in resolve_runs(parse_optimizer_list(list(texts)), **keywords)]


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["adam,sgd"], ["adam", "sgd"]),
        (["sgd(lr=1e-3, momentum=0.9)"], ["sgd lr=0.001, momentum=0.9"]),  # momentum SGD, not "sgd lr=0.001"
        (["nesterov(nesterov=false)"], ["nesterov nesterov=false"]),  # heavy-ball momentum, not "nesterov"
        (["momentum,sgd(momentum=0.9)"], ["momentum", "sgd momentum=0.9"]),
        (["nesterov(momentum=0.5)"], ["nesterov momentum=0.5"]),
        (["adam(lr=0.05)", "adam(lr=0.01)"], ["adam lr=0.05", "adam lr=0.01"]),
        (["adam,adam(lr=0.01)"], ["adam", "adam lr=0.01"]),
        (["adam,adam,adam"], ["adam", "adam #2", "adam #3"]),
        (["adam(lr=1),adam(lr=1.0),adam(lr=1e0)"], ["adam lr=1", "adam lr=1 #2", "adam lr=1 #3"]),
        (["Adam(LR=0.1),adam(lr=.1)"], ["adam lr=0.1", "adam lr=0.1 #2"]),
        (["adam(betas=(0.9, 0.99), lr=0.05),adam(lr=0.05)"], ["adam lr=0.05, betas=(0.9, 0.99)", "adam lr=0.05"]),
        (["adam(foreach=true),adam"], ["adam", "adam #2"]),  # a kernel switch changes nothing
        (["adam(amsgrad=TRUE),adam"], ["adam amsgrad=true", "adam"]),
        (["gd,sgd(lr=0.1)"], ["sgd", "sgd lr=0.1"]),
        (["adam(eps=1e-6, weight_decay=0.01)"], ["adam eps=1e-6, weight_decay=0.01"]),
        (["adam(lr=0.001)"], ["adam lr=0.001"]),  # an lr the user gave is shown even when it is torch's default
        (["adam(betas=(0.9, 0.999))"], ["adam"]),  # the default, spelled out, is still the default
        # two different runs never read alike: all digits where 3 would make them equal
        (["adam(lr=0.12345),adam(lr=0.12346)"], ["adam lr=0.12345", "adam lr=0.12346"]),
        (["adam(lr=0.05, schedule=cosine(T_max=100))"], ["adam lr=0.05, schedule=cosine(T_max=100)"]),
    ],
)
def test_labels(texts, expected):
    assert labels(*texts) == expected


def test_shared_lr_schedule_and_clipping_appear_in_every_label():
    from optviz.clipping import make_clipping
    from optviz.schedules import parse_schedule

    shown = labels("adam,sgd(momentum=0.9)", lr=0.02, schedule=parse_schedule("step(step_size=50)"),
                   clip=make_clipping(clip_value=0.5))
    assert shown == ["adam lr=0.02, schedule=step(step_size=50), clip_value=0.5",
                     "sgd lr=0.02, momentum=0.9, schedule=step(step_size=50), clip_value=0.5"]


def test_a_tuned_lr_is_marked_and_labels_are_computed_after_tuning():
    race = optviz.race("rosenbrock", ["adam", "adam(lr=0.05)", "adam"], steps=100)
    tuned, given, again = race.runs
    assert tuned.lr_source == "tuned" and given.lr_source == "user"
    assert tuned.label == f"adam lr={format_number(tuned.params['lr'])} (tuned)"
    assert given.label == "adam lr=0.05"
    assert again.label == f"{tuned.label} #2"


def test_no_tune_shows_nothing_for_torch_default_lr():
    race = optviz.race("rosenbrock", ["adam", "sgd(momentum=0.9)"], steps=5, tune=False)
    assert [run.label for run in race.runs] == ["adam", "sgd momentum=0.9"]


def test_the_legend_and_the_json_carry_the_same_label():
    race = optviz.race("rosenbrock", ["adam", "sgd(lr=1e-3, momentum=0.9)", "nesterov(nesterov=false)"], steps=40)
    documents = race.stats["runs"]
    assert [d["label"] for d in documents] == [run.label for run in race.runs]
    assert legend_labels(race, 0) == tuple(run.label for run in race.runs)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.05, "0.05"), (1e-3, "0.001"), (1e-5, "1e-5"), (0.00123456, "0.00123"), (0.0316227766, "0.0316"),
     (1.0, "1"), (300, "300"), (1000.0, "1000"), (12345.6, "12346"), (2e6, "2e+6"), (-0.0, "0"), (-2.5e-7, "-2.5e-7"),
     (float("inf"), "inf")],
)
def test_one_number_formatter(value, text):
    assert format_number(value) == text


def test_the_listing_formats_numbers_with_the_same_formatter():
    from optviz.cli import listing

    assert listing._number(1e-8) == format_number(1e-8, digits=6) == "1e-8"


_ITEMS = ["adam", "adam(lr=0.1)", "adam(lr=1e-1)", "ADAM", "sgd", "sgd(momentum=0.5)", "gd", "adam(eps=1e-6)",
          "adam(lr=0.100001)", "nesterov(nesterov=false)", "momentum", "sgd(momentum=0.9)"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(_ITEMS), min_size=1, max_size=8))
def test_labels_are_unique(items):
    shown = labels(*items)
    assert len(set(shown)) == len(shown)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(_ITEMS), min_size=1, max_size=6))
def test_runs_that_differ_never_share_a_label_base(items):
    """Two runs whose labels differ only by ' #n' are the same run: same optimiser and every parameter equal."""
    runs = resolve_runs(parse_optimizer_list(items))
    for a in runs:
        for b in runs:
            if a.label.split(" #")[0] == b.label.split(" #")[0]:
                assert a.definition.name == b.definition.name and a.params == b.params


@pytest.mark.parametrize("entry", list(OPTIMIZERS), ids=lambda e: e.name)
def test_every_non_default_value_shows(entry):
    """Table over the registry: change each float hyperparameter in turn; the label must name it."""
    for h in entry.hyperparameters:
        if h.kind != "float" or h.name == "lr":
            continue
        value = h.default + 0.25 if h.name not in ("momentum_decay",) else h.default * 2
        try:
            (run,) = label_runs([Run("", entry.name, entry.resolve({h.name: value}), "default")])
        except Exception:  # a value this entry refuses (a range) tells nothing about labels
            continue
        assert f"{h.name}={format_number(value)}" in run.label


def test_labels_of_a_hand_built_race_are_recomputed():
    fn = FUNCTIONS.get("rosenbrock")
    race = run_race(fn, [Run("whatever", "adam", OPTIMIZERS.get("adam").resolve({"lr": 0.05}), "user")],
                    [fn.default_start], 3)
    assert race.runs[0].label == "adam lr=0.05"


def test_the_title_says_when_gradients_were_minibatches_or_noisy():
    import optviz
    from optviz.render.labels import default_title, race_title

    exact = optviz.race("tiny-network", ["sgd(lr=0.1)"], steps=3)
    assert race_title(exact) == default_title(exact.function)
    batched = optviz.race("tiny-network", ["sgd(lr=0.1)"], steps=3, batch_size=4, seed=7)
    assert race_title(batched).endswith(" · minibatches of 4 of 64 points, seed 7")
    noisy = optviz.race("booth", ["sgd(lr=0.1)"], steps=3, noise=0.5)
    assert race_title(noisy) == f"{default_title(noisy.function)} · gradient noise σ = 0.5, seed 0"
