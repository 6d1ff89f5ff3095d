"""Command-line flags for every :class:`~tinysleepnet.config.Config` field."""

from __future__ import annotations

import argparse
import dataclasses
import typing

from ..config import PRESETS, Config, preset

#: Extra spellings of some flags (the issue tracker and the paper call passes "epochs").
_ALIASES = {"max_passes": ["--epochs", "--passes"]}


def _flag_type(annotation: object) -> typing.Callable[[str], object]:
    hint = str(annotation)
    if hint.startswith("tuple"):
        return lambda text: tuple(float(v) for v in text.split(","))
    if hint == "bool":
        return lambda text: text.lower() in ("1", "true", "yes", "on")
    for name, kind in (("int", int), ("float", float)):
        if hint.startswith(name):
            return kind
    return str


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--preset`` and one ``--field-name`` flag per Config field (default: the preset's)."""
    group = parser.add_argument_group("model and training settings (defaults: the paper's recipe)")
    group.add_argument(
        "--preset", choices=sorted(PRESETS), help="named set of settings (default: paper)"
    )
    for field in dataclasses.fields(Config):
        if field.name == "extra":
            continue
        flags = [f"--{field.name.replace('_', '-')}", *_ALIASES.get(field.name, [])]
        default = field.default if field.default is not dataclasses.MISSING else None
        group.add_argument(
            *flags,
            dest=f"config_{field.name}",
            type=_flag_type(field.type),
            default=None,
            metavar=field.name.upper(),
            help=f"(default {default})",
        )


def config_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The Config fields set on the command line, by field name."""
    return {
        name.removeprefix("config_"): value
        for name, value in vars(args).items()
        if name.startswith("config_") and value is not None
    }


def config_from_args(args: argparse.Namespace) -> Config:
    """The preset named by ``--preset`` (default: paper) with every flag given applied."""
    return preset(args.preset or "paper", **config_overrides(args))


def config_if_given(args: argparse.Namespace) -> Config | None:
    """Like :func:`config_from_args`, but ``None`` when no setting was given at all.

    Commands that continue an existing run use ``None`` to mean "the run's own settings".
    """
    if args.preset is None and not config_overrides(args):
        return None
    return config_from_args(args)
