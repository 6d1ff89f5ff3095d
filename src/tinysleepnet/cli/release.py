"""``tinysleepnet release``: train one final model on all subjects and write its model card."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import DATA_FIELDS
from ._config import add_config_arguments, config_if_given

EPILOG = """\
The model is trained on every subject of DATA but a seeded share (--valid-frac, as in each
fold of `tinysleepnet cv`) that chooses the checkpoint and fits the calibration temperature.
MODEL_DIR receives model.pt, model.json and MODEL.md (the model card) and training/.
With --cv-run the card carries the pooled cross-validated scores of that run, whose settings
the release then uses unless others are given; without it the card says plainly that the
model is not cross-validated. Then: tinysleepnet models install MODEL_DIR --default
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "release",
        help="train a final model on all subjects and write its model card",
        description="Train one model on all subjects of prepared nights and describe it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", type=Path, help="prepared nights (tinysleepnet prepare)")
    parser.add_argument("--out", type=Path, required=True, metavar="MODEL_DIR")
    parser.add_argument(
        "--cv-run",
        type=Path,
        metavar="RUN",
        help="finished cross-validation run of the same settings (tinysleepnet cv)",
    )
    parser.add_argument("--name", help="name of the model (default: MODEL_DIR's name)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser, exclude=DATA_FIELDS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models.folder import ModelFolder
    from ..workflows.release import release

    card = release(
        args.data,
        args.out,
        config_if_given(args),
        cv_run=args.cv_run,
        name=args.name,
        progress=not args.quiet,
    )
    card_text = ModelFolder(args.out).card_markdown_path
    print(f"released {card['name']} into {args.out} (see {card_text})")
    print(f"temperature {card['temperature']:.3f}, weights SHA-256 {card['weights']['sha256']}")
    return 0
