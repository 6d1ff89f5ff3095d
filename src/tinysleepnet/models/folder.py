"""A released model's folder: its file names, its card and the check that the two agree.

``tinysleepnet release`` and ``tinysleepnet finetune`` write one; ``tinysleepnet models
install`` copies one into the installed models (:mod:`.store`), which are model folders
too, without ``training/``::

    MODEL_DIR/
      model.pt      weights, settings, calibration temperature and reference amplitude (a
                    checkpoint: fit()'s calibrated best.pt, copied in whole or not at all)
      model.json    the model card, for programs (:mod:`.card`)
      MODEL.md      the same card, for people; the card's two files are written last
      training/     fit()'s files (a TrainingRun: log.csv, best.pt, last.pt); not installed

A folder is a model once its card is written, and is used only while ``model.pt`` is the
file the card describes (its SHA-256) and the card's name is one file name
(:meth:`ModelFolder.verified_card`): a release killed before its card, or a ``model.pt``
replaced or damaged since, is refused in one line naming the folder or the file. Rerunning
a release resumes its ``training/`` (whose own rule refuses other settings or nights).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import PathError
from ..io.atomic import atomic_path, read_json, write_json, write_text_atomic
from ..io.names import safe_name
from .card import card_markdown


@dataclass(frozen=True)
class ModelFolder:
    """The folder of one released or installed model (see the module's layout).

    Parameters
    ----------
    folder : Path
        The model's folder; nothing is written by making the object.

    Examples
    --------
    >>> model = ModelFolder("models/edf20")  # doctest: +SKIP
    >>> model.verified_card()["name"], model.model_path  # doctest: +SKIP
    ('edf20', PosixPath('models/edf20/model.pt'))
    """

    folder: Path

    MODEL: ClassVar[str] = "model.pt"
    CARD: ClassVar[str] = "model.json"
    CARD_MARKDOWN: ClassVar[str] = "MODEL.md"
    TRAINING: ClassVar[str] = "training"
    #: The files an install copies: the model without its ``training/``.
    INSTALLED: ClassVar[tuple[str, ...]] = (MODEL, CARD, CARD_MARKDOWN)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))

    @classmethod
    def holding(cls, path: str | Path) -> ModelFolder | None:
        """The model folder whose ``model.pt`` is ``path``; None for any other file (a bare
        checkpoint, an ONNX graph, a ``model.pt`` without a card beside it)."""
        path = Path(path)
        model = cls(path.parent)
        return model if path.name == cls.MODEL and model.has_card else None

    @property
    def model_path(self) -> Path:
        """``model.pt``: the weights staging loads."""
        return self.folder / self.MODEL

    @property
    def card_path(self) -> Path:
        """``model.json``: the card for programs."""
        return self.folder / self.CARD

    @property
    def card_markdown_path(self) -> Path:
        """``MODEL.md``: the card for people."""
        return self.folder / self.CARD_MARKDOWN

    @property
    def training_dir(self) -> Path:
        """``training/``: the training run the model was taken from."""
        return self.folder / self.TRAINING

    @property
    def has_card(self) -> bool:
        """Whether the card (``model.json``) is written: the folder is a released model."""
        return self.card_path.is_file()

    def read_card(self) -> dict[str, Any]:
        """The card (``model.json``), unchecked against the weights.

        Raises
        ------
        PathError
            Naming the folder if it has no card, or the card if it is damaged.
        """
        if not self.has_card:
            raise PathError(self.folder, f"not a released model (no {self.CARD})")
        return read_json(self.card_path, "model card")

    def verified_card(self) -> dict[str, Any]:
        """The card, after checking ``model.pt`` against it: the rule a model folder is used by.

        The card's ``weights.sha256`` is the SHA-256 of the whole ``model.pt`` (weights,
        settings, temperature, reference amplitude), and its ``name`` must be one file name
        (:func:`~tinysleepnet.io.names.safe_name`): it names the installed folder.

        Raises
        ------
        PathError
            If the folder has no card or no ``model.pt`` (a release that did not finish), the
            card's name is not a file name, or ``model.pt`` is not the file the card
            describes.
        """
        # here, not with the module: `tinysleepnet models --help` reads the store without torch
        from ..nn.checkpoint import file_checksum

        card = self.read_card()
        if not self.model_path.is_file():
            raise PathError(self.folder, f"not a released model (no {self.MODEL})")
        safe_name(str(card.get("name", "")), self.card_path, "model name")
        expected = (card.get("weights") or {}).get("sha256")
        if file_checksum(self.model_path) != expected:
            raise PathError(
                self.model_path,
                f"does not match the SHA-256 in {self.CARD} (damaged or replaced, or a "
                "release killed before it finished: rerun it)",
            )
        return card

    def write_model(self, checkpoint: str | Path) -> None:
        """Copy ``checkpoint`` (a calibrated ``best.pt``) as ``model.pt``, atomically."""
        with atomic_path(self.model_path) as tmp:
            shutil.copyfile(checkpoint, tmp)

    def write_card(self, card: dict[str, Any]) -> None:
        """Write the card as ``model.json`` and ``MODEL.md``, each atomically; the last
        files of a release, which make the folder a model."""
        write_json(self.card_path, card)
        write_text_atomic(self.card_markdown_path, card_markdown(card))
