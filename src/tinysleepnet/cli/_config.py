"""Command-line flags for every :class:`~tinysleepnet.config.Config` field."""

from __future__ import annotations

import argparse
import dataclasses
import os
import typing
from collections.abc import Callable, Collection

from ..config import PRESETS, Config, preset
from ..errors import TinySleepNetError, check_number

#: Extra spellings of some flags (the issue tracker and the paper call passes "epochs").
_ALIASES = {"max_passes": ["--epochs", "--passes"]}

#: Fields that change how fast a command runs, not what it computes: given alone, they do
#: not make new settings for a run that continues (its own are kept).
_RUNTIME_FIELDS = ("threads",)

#: Help of fields whose default needs words.
_HELP = {"threads": "torch threads (default: chosen for the machine, its free cores)"}


def number(*, whole: bool = False, **bounds: float | bool) -> Callable[[str], float]:
    """Argparse ``type`` of a numeric flag: a number in a range, refused in one line otherwise.

    ``bounds`` are :func:`~tinysleepnet.errors.check_number`'s (``low=1``, ``high=8``...).
    """

    def parse(text: str) -> float:
        try:
            value: float = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {'whole ' if whole else ''}number"
            ) from None
        try:
            check_number("", value, whole=whole, **bounds)  # type: ignore[arg-type]
        except TinySleepNetError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return value

    return parse


#: Most workers a ``--jobs`` flag takes: 4 per CPU of this machine.
MAX_JOBS = 4 * (os.cpu_count() or 1)
#: ``--jobs N``: workers at once, 1 to :data:`MAX_JOBS`.
JOBS = number(whole=True, low=1, high=MAX_JOBS)
#: ``--folds K``: at least 2 folds.
FOLDS = number(whole=True, low=2)
#: ``--fold I``: a 0-based fold index.
FOLD_INDEX = number(whole=True, low=0)
#: ``--parallel N``, ``--epochs N``: a count of at least one.
COUNT = number(whole=True, low=1)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(value) for value in text.split(","))


def _flag_options(hint: object) -> dict[str, object]:
    """``type``/``choices`` of the flag of a Config field, from its type hint."""
    if typing.get_origin(hint) is typing.Literal:
        return {"choices": typing.get_args(hint)}
    if typing.get_origin(hint) is tuple:
        return {"type": _floats}
    if hint is bool:  # --peepholes / --no-peepholes
        return {"action": argparse.BooleanOptionalAction}
    return {"type": hint if hint in (int, float) else str}


def add_config_arguments(
    parser: argparse.ArgumentParser,
    exclude: Collection[str] = (),
    *,
    defaults: Config | None = None,
    title: str = "model and training settings (defaults: the paper's recipe)",
) -> None:
    """Add ``--preset`` and one ``--field-name`` flag per Config field (default: the preset's).

    ``exclude`` names fields the command does not read, which then get no flag (training
    takes :data:`~tinysleepnet.config.DATA_FIELDS` from the prepared nights). ``defaults``
    are the settings the command runs without flags, shown in ``--help`` under ``title``
    (default: the paper's).
    """
    group = parser.add_argument_group(title)
    group.add_argument(
        "--preset", choices=sorted(PRESETS), help="named set of settings (default: paper)"
    )
    hints = typing.get_type_hints(Config)
    shown = (defaults or Config()).to_dict()
    for field in dataclasses.fields(Config):
        if field.name == "extra" or field.name in exclude:
            continue
        flags = [f"--{field.name.replace('_', '-')}", *_ALIASES.get(field.name, [])]
        options = _flag_options(hints[field.name])
        choices = f"{', '.join(map(str, options['choices']))}; " if "choices" in options else ""  # type: ignore[call-overload]
        if "action" not in options:
            options["metavar"] = field.name.upper()
        value = shown[field.name]
        default = ",".join(f"{v:g}" for v in value) if isinstance(value, list | tuple) else value
        group.add_argument(
            *flags,
            dest=f"config_{field.name}",
            default=None,
            help=_HELP.get(field.name, f"({choices}default {default})"),
            **options,  # type: ignore[arg-type]
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
    Flags of :data:`_RUNTIME_FIELDS` alone (``--threads``) keep them too: the command sets
    the threads itself (:func:`use_threads`).
    """
    if args.preset is None and not set(config_overrides(args)) - set(_RUNTIME_FIELDS):
        return None
    return config_from_args(args)


def use_threads(threads: int | None) -> int:
    """Set torch's threads for this command: ``threads``, or when None or 0 the machine's
    :func:`~tinysleepnet.nn.device.default_threads`. Returns the number set."""
    import torch

    from ..nn.device import resolve_threads

    chosen = resolve_threads(threads or 0)
    torch.set_num_threads(chosen)
    return chosen
