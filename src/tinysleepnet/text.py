"""Wording shared by messages: counts with their noun in the right number."""

from __future__ import annotations

#: Plurals that are not the noun plus "s".
_PLURALS = {"pass": "passes"}


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1.

    ``counted(1, "pass")`` is ``"1 pass"``, ``counted(2, "pass")`` ``"2 passes"`` and
    ``counted(1000, "epoch")`` ``"1,000 epochs"``.
    """
    return f"{n:,} {noun if n == 1 else _PLURALS.get(noun, noun + 's')}"
