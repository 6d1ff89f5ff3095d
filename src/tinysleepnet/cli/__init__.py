"""The ``tinysleepnet`` command: one subcommand per module of this package."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import threading
import typing
from collections.abc import Sequence

from .. import __version__
from ..errors import TinySleepNetError

#: Subcommands in the order ``--help`` lists them; each is ``cli/<name>.py``.
COMMANDS = (
    "demo",
    "download",
    "simulate",
    "prepare",
    "train",
    "cv",
    "evaluate",
    "release",
    "models",
    "finetune",
    "reproduce",
    "predict",
    "merge",
    "export",
)


class _Parser(argparse.ArgumentParser):
    """Argument parser whose refusal of a flag is one line (subcommands' parsers too)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinysleepnet",
        description="Automatic sleep staging from one raw EEG channel with TinySleepNet.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument(
        "-v", "--verbose", dest="log_level", action="store_const", const=logging.DEBUG,
        default=logging.INFO, help="log details too (before the command: tinysleepnet -v cv ...)",
    )  # fmt: skip
    volume.add_argument(
        "-q", "--quiet", dest="log_level", action="store_const", const=logging.WARNING,
        help="log warnings and errors only (one INFO line per pass and per fold otherwise)",
    )  # fmt: skip
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input)."""
    args = build_parser().parse_args(argv)
    # The package's log (stages of long commands, which channel a recording gave) goes to
    # stderr for the length of this command only.
    logger = logging.getLogger("tinysleepnet")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("tinysleepnet: %(message)s"))
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(args.log_level)
    try:
        return int(args.func(args))
    except TinySleepNetError as err:
        print(f"tinysleepnet: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a read-only or full disk, a file where a folder should be
        print(f"tinysleepnet: error: {err.filename or ''}: {err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinysleepnet: interrupted; rerun the same command to resume", file=sys.stderr)
        if threading.active_count() > 1:
            # Worker threads (--jobs) are still inside torch or MNE code: letting the
            # interpreter shut down under them aborts the process ("terminate called
            # without an active exception", exit 134). Every file is written atomically,
            # so leaving at once loses only the work in progress.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        return 130
    finally:
        # Leave torchrun's process group, if this command trained and so joined one (the
        # module is looked up, not imported: commands that never train need no torch).
        distributed = sys.modules.get("tinysleepnet.training.distributed")
        if distributed is not None:
            distributed.shutdown()
        logger.removeHandler(handler)
        logger.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
