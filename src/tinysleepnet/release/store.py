"""Installed models: released model folders copied into the user's data folder, by name.

Models live in ``<home>/models/<name>/`` (``model.pt``, ``model.json``, ``MODEL.md``), where
``<home>`` is ``$TINYSLEEPNET_HOME`` when set, else the platform's user data folder
(platformdirs: ``~/.local/share/tinysleepnet`` on Linux, ``~/Library/Application
Support/tinysleepnet`` on macOS, ``%LOCALAPPDATA%\\tinysleepnet`` on Windows). The file
``<home>/models/DEFAULT`` names the model that staging uses when none is given.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import PathError, TinySleepNetError
from ..io.atomic import write_text_atomic
from .card import CARD_FILE, CARD_MARKDOWN, MODEL_FILE, read_card

#: Environment variable that overrides the folder models are installed into.
HOME_ENV = "TINYSLEEPNET_HOME"

#: File naming the default model, inside :func:`models_dir`.
DEFAULT_FILE = "DEFAULT"

#: What ``predict`` without a model, and with none installed, tells the user to do.
HOW_TO_GET_A_MODEL = (
    "no model given and none installed: train and describe one with "
    "'tinysleepnet release DATA --out MODEL_DIR', install it with "
    "'tinysleepnet models install MODEL_DIR --default', or pass --model CKPT"
)


def models_dir() -> Path:
    """Folder of the installed models (it may not exist yet)."""
    home = os.environ.get(HOME_ENV) or platformdirs.user_data_dir("tinysleepnet", appauthor=False)
    return Path(home) / "models"


def installed_models() -> list[dict[str, Any]]:
    """The installed models' cards, by name, each with ``path`` and ``default`` added."""
    folder = models_dir()
    default = default_model_name()
    return [
        {**read_card(card.parent), "path": str(card.parent), "default": card.parent.name == default}
        for card in sorted(folder.glob(f"*/{CARD_FILE}"))
    ]


def install_model(model_dir: str | Path, *, default: bool = False) -> Path:
    """Copy a released model folder into :func:`models_dir` under its card's name.

    The weights, ``model.json`` and ``MODEL.md`` are copied (not ``training/``); a model of
    the same name is replaced. The first model installed becomes the default.

    Parameters
    ----------
    model_dir : str or Path
        Folder written by ``tinysleepnet release`` or ``finetune``.
    default : bool
        Make it the model staging uses when none is given.

    Returns
    -------
    Path
        The installed folder.

    Raises
    ------
    PathError
        If ``model_dir`` is not a released model.
    """
    model_dir = Path(model_dir)
    card = read_card(model_dir)
    if not (model_dir / MODEL_FILE).is_file():
        raise PathError(model_dir, f"not a released model (no {MODEL_FILE})")
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / card["name"]
    # Copied beside the target, then renamed: a model is installed whole or not at all.
    staging = Path(tempfile.mkdtemp(prefix=f".{card['name']}.", dir=folder))
    try:
        for file in (MODEL_FILE, CARD_FILE, CARD_MARKDOWN):
            shutil.copy2(model_dir / file, staging / file)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if default or default_model_name() is None:
        set_default_model(card["name"])
    return target


def set_default_model(name: str) -> None:
    """Make an installed model the default."""
    if not (models_dir() / name / MODEL_FILE).is_file():
        raise TinySleepNetError(f"no installed model named {name!r} (see 'tinysleepnet models')")
    write_text_atomic(models_dir() / DEFAULT_FILE, name + "\n")


def default_model_name() -> str | None:
    """Name of the default model, None when there is none (or it was removed)."""
    path = models_dir() / DEFAULT_FILE
    if not path.is_file():
        return None
    name = path.read_text(encoding="utf-8").strip()
    return name if (models_dir() / name / MODEL_FILE).is_file() else None


def resolve_model(model: str | Path | None) -> Path:
    """The checkpoint file a model argument names.

    Parameters
    ----------
    model : str, Path or None
        A checkpoint or ``.onnx`` file, a model folder (holding ``model.pt``), the name of
        an installed model, or None for the default model.

    Raises
    ------
    TinySleepNetError
        If ``model`` is None and no model is installed (the message says how to get one),
        or names nothing that exists.
    """
    if model is None:
        name = default_model_name()
        if name is None:
            raise TinySleepNetError(HOW_TO_GET_A_MODEL)
        return models_dir() / name / MODEL_FILE
    path = Path(model)
    if path.is_file():
        return path
    if (path / MODEL_FILE).is_file():
        return path / MODEL_FILE
    installed = models_dir() / str(model) / MODEL_FILE
    if path.name == str(model) and installed.is_file():
        return installed
    raise PathError(
        path,
        "checkpoint not found, nor a model folder or installed model (see 'tinysleepnet models')",
    )
