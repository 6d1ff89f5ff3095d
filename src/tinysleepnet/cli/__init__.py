"""The ``tinysleepnet`` command: one subcommand per module of this package."""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import re
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

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


class Parser(argparse.ArgumentParser):
    """The parser of the command and of every subcommand: a refusal is one line, flags are
    never abbreviated (``--chan`` is not ``--channel``), and a mistyped subcommand or flag
    is answered with the nearest one (``did you mean --channel?``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._given: list[str] = []

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        """One line: the refusal, the nearest subcommand or flag if any, where help is."""
        self.exit(
            2,
            f"{self.prog}: error: {message}{self._suggestion(message)} (see {self.prog} --help)\n",
        )

    def _suggestion(self, message: str) -> str:
        """``"; did you mean X?"`` for an unknown subcommand or flag, or ``""``."""
        if choice := re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message):
            wrong, choices = choice.group(1), re.findall(r"'([^']*)'", choice.group(2))
        elif unknown := re.search(r"unrecognized arguments: (.*)", message):
            flags = [
                word.split("=")[0] for word in unknown.group(1).split() if word.startswith("-")
            ]
            if not flags:
                return ""
            wrong, choices = flags[0], self._flags()
        else:
            return ""
        near = difflib.get_close_matches(wrong, choices, n=1, cutoff=0.6)
        return f"; did you mean {near[0]}?" if near else ""

    def _flags(self) -> list[str]:
        """This parser's flags, and those of the subcommand given, if any."""
        flags = [flag for action in self._actions for flag in action.option_strings]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                command = next((word for word in self._given if word in action.choices), None)
                if command is not None:
                    sub = action.choices[command]
                    flags += [flag for a in sub._actions for flag in a.option_strings]
        return flags


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
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
        # Log lines go through tqdm, so they print whole above a progress bar rather
        # than into it (tqdm is light: --help stays quick).
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm([logger]):
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
