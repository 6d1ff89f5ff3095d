"""``tinysleepnet evaluate``: pooled scores of a cross-validation run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a cross-validation run (all folds pooled)",
        description=(
            "Pool the test epochs of every fold of RUN into one confusion matrix and write "
            "RUN/evaluation/scores.json, scores.md and confusion.png."
        ),
    )
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN", help="run directory of tinysleepnet cv"
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="score the finished folds even if some are missing (the report says which)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.report import evaluate_run

    print_report(evaluate_run(args.run_dir, allow_partial=args.allow_partial))
    return 0


def print_report(result: dict[str, Any]) -> None:
    """Print the Markdown summary of :func:`evaluate_run` and where its files are."""
    from ..evaluation.report import summary_markdown

    print(summary_markdown(result))
    for path in result["paths"].values():
        print(f"wrote {path}")
