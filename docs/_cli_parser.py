"""The command line's parser as the CLI reference shows it.

sphinx-argparse renders help texts as reStructuredText; the package's help is plain text,
so the few characters reStructuredText would read as markup are escaped here (the parser
itself, and so ``--help``, are unchanged).
"""

from __future__ import annotations

import argparse
import re

from tinysleepnet.cli import build_parser

_MARKUP = re.compile(r"([*`|_\\])")


def _escape(text: str | None) -> str | None:
    return None if text is None else _MARKUP.sub(r"\\\1", text)


def _escape_all(parser: argparse.ArgumentParser) -> None:
    parser.description = _escape(parser.description)
    parser.epilog = _escape(parser.epilog)
    for action in parser._actions:
        if action.help not in (None, argparse.SUPPRESS):
            action.help = _escape(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = _escape(choice.help)
            for sub in action.choices.values():
                _escape_all(sub)


def parser() -> argparse.ArgumentParser:
    """``tinysleepnet``'s parser, its help texts escaped for reStructuredText."""
    built = build_parser()
    _escape_all(built)
    return built
