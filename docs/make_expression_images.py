"""Regenerate the pictures of docs/expressions.md with optviz itself (through the Python API).

    python docs/make_expression_images.py

Writes docs/images/seed.png and seed.gif (the seed article's experiment), expression-1d.png (a double well typed
as a formula) and expression-2d.png (a two-variable formula), and prints how long each took and its size.
"""

from __future__ import annotations

import time
from pathlib import Path

import optviz

IMAGES = Path(__file__).resolve().parent / "images"
SEED_OPTIMIZERS = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def save(race, name: str, **options) -> None:
    began = time.perf_counter()
    path = race.save(IMAGES / name, **options)
    print(f"{name}: {time.perf_counter() - began:.1f} s, {path.stat().st_size / 1e6:.2f} MB")


def main() -> None:
    seed = optviz.race("x**2", SEED_OPTIMIZERS, start=3, lr=0.01, steps=1000)
    save(seed, "seed.png")
    save(seed, "seed.gif", size=(960, 540))
    well = optviz.race("x**4 - 3*x**2 + x", ["gd", "momentum", "adam"], start=2.2, lr=0.01, steps=300)
    save(well, "expression-1d.png", theme="dark")
    bowl = optviz.race("sin(x)*cos(y) + (x^2 + y^2)/10", ["gd", "momentum", "rmsprop", "adam"], start=(2.5, 2),
                       lr=0.05, steps=300)
    save(bowl, "expression-2d.png")


if __name__ == "__main__":
    main()
