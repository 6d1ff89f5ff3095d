"""``tinysleepnet finetune``: train a released model further on one's own scored nights."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..workflows import MAX_FOLDS, TRAINABLE
from ._config import COUNT, FOLDS, number


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="fine-tune a released model on your own scored nights",
        description=(
            "Fine-tune MODEL on the prepared nights in DATA subject-wise: each fold's "
            "subjects are staged by MODEL and by the model fine-tuned on the other subjects, "
            "and the pooled scores of both are printed side by side. Then the model is "
            "fine-tuned on all subjects and released into DIR with its card (naming MODEL "
            "as its parent); rerunning with the same MODEL, --train and settings on the same "
            "nights resumes, with others is refused."
        ),
    )
    parser.add_argument(
        "model", metavar="MODEL", help="released model folder, installed name or checkpoint"
    )
    parser.add_argument("data", type=Path, help="prepared nights (tinysleepnet prepare)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--train",
        choices=TRAINABLE,
        default="all",
        dest="trainable",
        help="what to train: all weights (default) or the LSTM and classifier (head)",
    )
    parser.add_argument(
        "--lr", type=number(low=0), help="learning rate (default: the parent's / 10)"
    )
    parser.add_argument(
        "--folds", type=FOLDS, help=f"folds over the subjects (default: up to {MAX_FOLDS})"
    )
    parser.add_argument("--epochs", "--max-passes", type=COUNT, dest="max_passes")
    parser.add_argument("--patience", type=number(whole=True, low=0))
    parser.add_argument("--device", help="device to train on (default: the parent's setting)")
    parser.add_argument("--name", help="name of the fine-tuned model (default: DIR's name)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.finetune import comparison_markdown, finetune

    card = finetune(
        args.model,
        args.data,
        args.out,
        trainable=args.trainable,
        lr=args.lr,
        n_folds=args.folds,
        max_passes=args.max_passes,
        patience=args.patience,
        device=args.device,
        name=args.name,
        progress=not args.quiet,
    )
    print(comparison_markdown(card["fine_tuning"], card["parent"]["name"]))
    print(f"released {card['name']} into {args.out}")
    return 0
