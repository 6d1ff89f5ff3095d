"""Wording shared by messages and reports: counts with their noun in the right number,
Markdown tables."""

from __future__ import annotations

from collections.abc import Sequence

#: Plurals that are not the noun plus "s".
_PLURALS = {"pass": "passes"}


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1.

    ``counted(1, "pass")`` is ``"1 pass"``, ``counted(2, "pass")`` ``"2 passes"`` and
    ``counted(1000, "epoch")`` ``"1,000 epochs"``.
    """
    return f"{n:,} {noun if n == 1 else _PLURALS.get(noun, noun + 's')}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table: ``header``, the rule under it, one line per row.

    ``markdown_table(["stage", "epochs"], [["W", "10"]])`` is
    ``["| stage | epochs |", "|---|---|", "| W | 10 |"]``.
    """
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
