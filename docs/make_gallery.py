"""Regenerate every picture in docs/ with optviz itself.

    python docs/make_gallery.py            # all pictures (a few minutes)
    python docs/make_gallery.py --only rosenbrock

Writes docs/images/<function>-<theme>.png (the last frame of a default race) for every built-in function in
both themes, the README's animated GIF, the pictures of docs/many-starts.md and docs/second-order.md, and
docs/gallery.md, which shows the functions' pictures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from optviz.functions import FUNCTIONS

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images"
GALLERY_OPTIMIZERS = "sgd,momentum,rmsprop,adam"
STILL_SIZE = "960x540"
THEMES = ("light", "dark")


def optviz(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "optviz", *args, "--quiet"], check=True)


def gallery_markdown(names: list[str]) -> str:
    lines = [
        "# Gallery",
        "",
        "The last frame of `optviz race --fn NAME` (default optimisers "
        f"`{GALLERY_OPTIMIZERS}`, tuned learning rates) for every built-in function, in both themes.",
        "Regenerate with `python docs/make_gallery.py`.",
        "",
    ]
    for name in names:
        function = FUNCTIONS.get(name)
        lines += [f"## {name}", "", f"`{function.formula}`", ""]
        lines += [f"![{name}, {theme} theme](images/{name}-{theme}.png)" for theme in THEMES]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="function names (default: all)")
    args = parser.parse_args()
    names = args.only or FUNCTIONS.names()
    IMAGES.mkdir(exist_ok=True)
    for name in names:
        for theme in THEMES:
            optviz("race", "--fn", name, "--opt", GALLERY_OPTIMIZERS, "--theme", theme, "--size", STILL_SIZE,
                   "-o", str(IMAGES / f"{name}-{theme}.png"))
            print(f"{name} ({theme})", file=sys.stderr)
    if not args.only:
        optviz("race", "--fn", "rosenbrock", "--opt", GALLERY_OPTIMIZERS, "--size", "800x450",
               "-o", str(IMAGES / "rosenbrock-race.gif"))
        (DOCS / "gallery.md").write_text(gallery_markdown(names))
        many_starts_pictures()
        second_order_pictures()


def many_starts_pictures() -> None:
    """docs/many-starts.md: a grid of starts on Himmelblau, and minibatch SGD and Adam on the tiny network."""
    grid = ["race", "--fn", "himmelblau", "--opt", "adam,momentum", "--starts", "grid:8x8"]
    optviz(*grid, "-o", str(IMAGES / "many-starts-himmelblau.gif"), "--size", "960x540")
    optviz(*grid, "-o", str(IMAGES / "many-starts-himmelblau-dark.png"), "--theme", "dark")
    tiny = ["race", "--fn", "tiny-network", "--opt", "sgd,adam", "--batch-size", "4"]
    optviz(*tiny, "-o", str(IMAGES / "minibatch-tiny-network.png"))


def second_order_pictures() -> None:
    """docs/second-order.md: L-BFGS and Newton against Adam on Rosenbrock, and Newton drawn to a saddle."""
    optviz("race", "--fn", "rosenbrock", "--opt", "lbfgs,lbfgs(line_search_fn='strong_wolfe'),newton,adam",
           "--steps", "100", "-o", str(IMAGES / "second-order-rosenbrock.png"))
    optviz("race", "--fn", "himmelblau", "--start=-1,1", "--opt", "lbfgs,newton,adam", "--steps", "100",
           "-o", str(IMAGES / "second-order-saddle.png"))


if __name__ == "__main__":
    main()
