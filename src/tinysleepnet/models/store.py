"""Installed models: released model folders copied into the user's data folder, by name.

Models live in ``<home>/models/<name>/`` (a :class:`~.folder.ModelFolder` of ``model.pt``,
``model.json`` and ``MODEL.md``), where ``<home>`` is ``$TINYSLEEPNET_HOME`` when set, else
the platform's user data folder (platformdirs: ``~/.local/share/tinysleepnet`` on Linux,
``~/Library/Application Support/tinysleepnet`` on macOS, ``%LOCALAPPDATA%\\tinysleepnet``
on Windows). The file ``<home>/models/DEFAULT`` names the model that staging uses when
none is given.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import PathError, TinySleepNetError
from ..io.atomic import partial_path, stale_partials, write_text_atomic
from ..io.names import name_problem
from .folder import ModelFolder

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
    """The installed models' cards, by name, each with ``path`` and ``default`` added.

    Hidden folders (an install's temporary copy, left by one that was killed) are not
    models and are skipped.
    """
    folder = models_dir()
    default = default_model_name()
    return [
        {
            **ModelFolder(card.parent).read_card(),
            "path": str(card.parent),
            "default": card.parent.name == default,
        }
        for card in sorted(folder.glob(f"*/{ModelFolder.CARD}"))
        if name_problem(card.parent.name) is None
    ]


def install_model(model_dir: str | Path, *, default: bool = False) -> Path:
    """Copy a released model folder into :func:`models_dir` under its card's name.

    The weights, ``model.json`` and ``MODEL.md`` are copied (not ``training/``), after
    ``model.pt`` is checked against the card's SHA-256; a model of the same name is
    replaced. The copy is made in a hidden folder beside the target (with the umask's
    permissions) and renamed into place; the model it replaces is set aside in another
    hidden folder and deleted only then. A killed install never leaves a half-copied
    model under the name; its hidden folders are never listed, and the next install of
    the name removes them. The first model installed becomes the default.

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
        If ``model_dir`` is not a released model, its ``model.pt`` does not match its card,
        or the card's name is not one file name (``../x``, ``/abs``); nothing is then
        copied or deleted.
    """
    source = ModelFolder(Path(model_dir))
    name = source.verified_card()["name"]
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    hidden = folder / f".{name}"  # the temporary folders' prefix: never listed as models
    for leftover in stale_partials(hidden):  # of installs of this name that were killed
        _remove(leftover)
    staging = partial_path(hidden)
    staging.mkdir()  # with the umask's permissions, as the copied files
    try:
        for file in ModelFolder.INSTALLED:
            shutil.copyfile(source.folder / file, staging / file)
        previous = partial_path(hidden)
        if target.is_symlink() or target.exists():
            target.rename(previous)  # set aside, not deleted until the new one is in place
        staging.rename(target)
        if previous.is_symlink() or previous.exists():
            _remove(previous)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    if default or default_model_name() is None:
        set_default_model(name)
    return target


def _remove(path: Path) -> None:
    """Delete a folder of :func:`models_dir` (a link only unlinked, never followed)."""
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


def set_default_model(name: str) -> None:
    """Make an installed model the default."""
    if _installed(name) is None:
        raise TinySleepNetError(f"no installed model named {name!r} (see 'tinysleepnet models')")
    write_text_atomic(models_dir() / DEFAULT_FILE, name + "\n")


def default_model_name() -> str | None:
    """Name of the default model, None when there is none (or it was removed)."""
    path = models_dir() / DEFAULT_FILE
    if not path.is_file():
        return None
    name = path.read_text(encoding="utf-8").strip()
    return name if _installed(name) is not None else None


def _installed(name: str) -> ModelFolder | None:
    """The installed model called ``name``; None when there is none, or when ``name`` is not
    one file name (``..``, ``a/b``: never a folder outside :func:`models_dir`)."""
    if name_problem(name) is not None:
        return None
    model = ModelFolder(models_dir() / name)
    return model if model.model_path.is_file() else None


def resolve_model(model: str | Path | None) -> Path:
    """The checkpoint file a model argument names.

    Parameters
    ----------
    model : str, Path or None
        A checkpoint or ``.onnx`` file, a model folder (holding ``model.pt``), the name of
        an installed model, or None for the default model.

    A released model's ``model.pt`` (in a folder with its card) is checked against the
    SHA-256 on the card (:meth:`~.folder.ModelFolder.verified_card`); a folder holding
    ``model.pt`` without a card (a release that did not finish) is not a model.

    Raises
    ------
    TinySleepNetError
        If ``model`` is None and no model is installed (the message says how to get one),
        or names nothing that exists, or a released model that does not match its card.
    """
    return locate_model(model)[0]


def locate_model(model: str | Path | None) -> tuple[Path, dict[str, Any] | None]:
    """The file a model argument names (:func:`resolve_model`) and, for a released or
    installed model, its card, verified against the file; None for a bare checkpoint or
    ``.onnx`` file.

    Raises
    ------
    TinySleepNetError
        As :func:`resolve_model`.
    """
    if model is None:
        name = default_model_name()
        if name is None:
            raise TinySleepNetError(HOW_TO_GET_A_MODEL)
        return _verified(ModelFolder(models_dir() / name))
    path = Path(model)
    if path.is_file():
        released = ModelFolder.holding(path)
        return _verified(released) if released is not None else (path, None)
    if ModelFolder(path).model_path.is_file():
        return _verified(ModelFolder(path))
    installed = _installed(str(model))
    if installed is not None:
        return _verified(installed)
    raise PathError(
        path,
        "checkpoint not found, nor a model folder or installed model (see 'tinysleepnet models')",
    )


def _verified(model: ModelFolder) -> tuple[Path, dict[str, Any]]:
    """The ``model.pt`` of a released model folder and its card, checked against it."""
    return model.model_path, model.verified_card()
