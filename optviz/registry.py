"""Name lookup shared by the function and optimiser registries: aliases, `_`/`-` folding, "did you mean"."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, Protocol, TypeVar

from optviz.errors import UsageError


class Named(Protocol):
    name: str
    aliases: tuple[str, ...]


EntryT = TypeVar("EntryT", bound=Named)
MIN_PREFIX_CHARS = 3  # a shorter beginning names too little to suggest the one entry it starts


def normalise_name(name: str) -> str:
    """Case-insensitive, with `_` and `-` interchangeable: `Three_Hump_Camel` -> `three-hump-camel`."""
    return name.strip().lower().replace("_", "-")


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1."""
    previous, current = None, list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], before[j - 2] + 1)
    return current[-1]


def closest_name(name: str, candidates: list[str]) -> str | None:
    """The candidate nearest to a mistyped name, if it is plausibly a typo of it."""
    if not candidates:
        return None
    distance, best = min((edit_distance(name, c), c) for c in candidates)
    return best if distance <= max(2, len(name) // 3) else None


class Registry(Generic[EntryT]):
    """Entries keyed by canonical name, built from a list; aliases resolve to the same entry."""

    def __init__(self, kind: str, entries: Iterable[EntryT], parameter: str | None = None):
        self.kind = kind
        self.parameter = parameter  # the API keyword an unknown name is reported against (`theme`), if one
        self._entries: dict[str, EntryT] = {}
        self._lookup: dict[str, EntryT] = {}
        for entry in entries:
            for key in (entry.name, *entry.aliases):
                folded = normalise_name(key)
                if folded in self._lookup:
                    raise ValueError(f"duplicate {kind} name {key!r}")
                self._lookup[folded] = entry
            self._entries[entry.name] = entry

    def __iter__(self) -> Iterator[EntryT]:
        return iter(self._entries.values())

    def names(self) -> list[str]:
        return list(self._entries)

    def get(self, name: str) -> EntryT:
        folded = normalise_name(name)
        if folded in self._lookup:
            return self._lookup[folded]
        suggestion = self._suggestion(folded)
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        raise UsageError(
            f"unknown {self.kind} '{name}'{hint} (known: {', '.join(self.names())})", parameter=self.parameter
        )

    def _suggestion(self, folded: str) -> str | None:
        """The entry a mistyped name most likely means: the only one it begins (`goldstein`), else a near typo."""
        if len(folded) >= MIN_PREFIX_CHARS:
            starting = {entry.name for key, entry in self._lookup.items() if key.startswith(folded)}
            if len(starting) == 1:
                return starting.pop()
        close = closest_name(folded, list(self._lookup))
        return self._lookup[close].name if close else None
