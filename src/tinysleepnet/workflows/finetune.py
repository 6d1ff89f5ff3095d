"""``tinysleepnet finetune``: a released model trained further on one's own scored nights.

A model trained on Sleep-EDF meets other amplifiers, montages and populations in a lab's
own recordings. Fine-tuning starts from the released weights and trains on the lab's
scored nights; whether it helps is measured subject-wise, as for cross-validation: the
subjects are cut into folds (:func:`~tinysleepnet.evaluation.folds.make_folds`), each fold
is fine-tuned on the others (a seeded share of them choosing the checkpoint) and its own
subjects are staged by both the starting model and the fine-tuned one. The pooled scores
of both, side by side, say what fine-tuning buys on these recordings. Finally the model is
fine-tuned on all subjects and released with its card, which names its parent.

The output folder is a :class:`FinetuneRun`::

    OUT/
      start.json                                what the fine-tuning starts from: the parent
                                                (name, SHA-256), what is trained, the
                                                settings and the nights (names, epochs,
                                                content SHA-256); a rerun must start from
                                                the same
      folds/fold_00/ ...                        each fold's training run (a CvRun's folds,
                                                evaluation.cv.run_fold): fit()'s files,
                                                predictions/, DONE
      finetune.json FINETUNE.md                 the parent's and fine-tuned scores
      model.pt model.json MODEL.md training/   the fine-tuned model: OUT is also its
                                                ModelFolder (tinysleepnet.models.folder)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from .._docs import fill_doc
from ..config import RERUN_FREE_FIELDS, Config
from ..data.nights import load_nights
from ..errors import PathError, TinySleepNetError
from ..evaluation.cv import run_fold
from ..evaluation.folds import make_folds, nights_of, sorted_subjects
from ..evaluation.run import CvRun, data_differences, data_identity
from ..io.atomic import read_json, write_json, write_text_atomic
from ..models.card import headline, scores_table
from ..models.folder import ModelFolder
from ..models.store import resolve_model
from ..nn.checkpoint import checkpoint_config, file_checksum, load_checkpoint, load_model
from ..nn.device import resolve_device
from ..nn.inference import predict_proba
from ..scoring.metrics import scores
from . import MAX_FOLDS, TRAINABLE
from .release import model_name, release_nights

logger = logging.getLogger("tinysleepnet")

#: The CNN: the submodules frozen when fine-tuning trains the head only (see TRAINABLE).
CNN_MODULES = ("conv1", "convs")

#: Default learning rate, as a share of the parent's (see :func:`finetune`).
LR_SHARE = 0.1

#: Default most passes and patience; the parent's when smaller.
MAX_PASSES, PATIENCE = 20, 5


@fill_doc
def finetune(
    model: str | Path | None,
    data_dir: str | Path,
    out: str | Path,
    *,
    trainable: Literal["all", "head"] = "all",
    lr: float | None = None,
    n_folds: int | None = None,
    max_passes: int | None = None,
    patience: int | None = None,
    device: str | None = None,
    name: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune a released model on prepared nights, score it against its parent, release it.

    Parameters
    ----------
    model : str, Path or None
        The starting model: a released model folder, an installed model's name, a
        checkpoint, or None for the default installed model.
    data_dir : str or Path
        Prepared nights of the user's own scored recordings (``tinysleepnet prepare``,
        ``--pairs`` for any dataset), at the model's rate and epoch length. At least 3
        subjects.
    out : str or Path
        Output folder (see the module's docstring). Rerunning resumes.
    trainable : {"all", "head"}
        ``"all"`` (default) trains every weight. ``"head"`` freezes the CNN and trains the
        LSTM and classifier: fewer weights to fit on few nights, but the CNN's features
        stay those of the parent's recordings, so it cannot adapt to another amplifier's
        spectrum or amplitude: in ``benchmarks/finetune.py`` (EEG at half the amplitude and
        with more overlap between stages) it raised a weak parent's MF1 from 26 to 32 where
        ``"all"`` reached 48. Use it when the recordings resemble the parent's and the
        scored nights are few.
    lr : float or None
        Learning rate; default :data:`LR_SHARE` times the parent's. Starting from trained
        weights, the parent's rate moves them as far as from a random start and can undo
        on a few nights what the parent learned on many; a tenth keeps the fine-tuned model
        near the parent while it adapts. In ``benchmarks/finetune.py --long`` a good parent
        (ACC 71.2, kappa 0.61 on the new cohort) fell to 62.1 and 0.48 when fine-tuned at
        its own rate and kept 71.0 and 0.61 at a tenth; from a weak parent (ACC 51.4, the
        default run) both rates gained, a tenth reaching ACC 72.8 against 68.0.
    n_folds : int or None
        Folds over the subjects; default one per subject up to :data:`MAX_FOLDS`.
    max_passes, patience : int or None
        Default the parent's, at most :data:`MAX_PASSES` and :data:`PATIENCE`: fine-tuning
        starts near a solution and converges in a few passes.
    device : str or None
        Device to train on; default the parent's setting.
    name : str or None
        Name of the fine-tuned model (default: ``out``'s folder name); one file name.
    %(progress)s

    Returns
    -------
    dict
        The fine-tuned model's card; its ``fine_tuning`` entry holds ``parent`` and
        ``fine_tuned`` scores (ACC, MF1, kappa, per-stage F1) on the held-out subjects.

    Raises
    ------
    TinySleepNetError
        If ``trainable`` is unknown, ``name`` is not a file name, the nights do not fit the
        model or the folds, or ``out`` holds a fine-tuning of another parent, with another
        ``trainable``, with other settings or on other nights (:meth:`FinetuneRun.claim`).
    """
    if trainable not in TRAINABLE:
        raise TinySleepNetError(f"trainable must be one of {TRAINABLE}, got {trainable!r}")
    run = FinetuneRun(Path(out))
    name = model_name(name, run.folder)
    parent_path = resolve_model(model)
    parent_card = _parent(parent_path)
    parent = checkpoint_config(parent_path, load_checkpoint(parent_path))
    config = finetune_config(parent, lr, max_passes, patience, device)
    frozen = CNN_MODULES if trainable == "head" else ()
    nights = load_nights(data_dir)
    subjects = sorted_subjects(night.subject for night in nights)
    folds = make_folds(
        subjects, n_folds or min(MAX_FOLDS, len(subjects)), config.valid_frac, config.seed
    )
    run.claim(parent_card, trainable, config, data_identity(data_dir, nights))
    device_ = resolve_device(config.device)
    parent_net = load_model(parent_path, device_)
    expert, before, after = [], [], []
    for fold in folds:
        test = nights_of(nights, fold.test_subjects)
        tuned = run_fold(
            run.folds,
            fold,
            nights,
            config,
            progress=progress,
            init_weights=parent_path,
            frozen=frozen,
        )
        signals = [night.signal_uv for night in test]
        expert += [night.stages for night in test]
        before += [p.argmax(axis=1) for p in predict_proba(parent_net, signals)]
        for night in test:
            with np.load(tuned.prediction_path(night.name)) as staged:
                after.append(staged["predicted"])
        logger.info("fine-tuning fold %d done", fold.index)
    truth = np.concatenate(expert)
    comparison: dict[str, Any] = {
        "parent": headline(scores(truth, np.concatenate(before))),
        "fine_tuned": headline(scores(truth, np.concatenate(after))),
        "n_folds": len(folds),
        "n_subjects": len(subjects),
        "trainable": trainable,
        "lr": config.lr,
    }
    run.write_comparison(comparison, parent_card["name"])
    return release_nights(
        nights,
        run.folder,
        config,
        name=name,
        card={
            "parent": parent_card,
            "fine_tuning": comparison,
            "cross_validation": {
                **comparison["fine_tuned"],
                "description": (
                    f"Fine-tuned subject-wise on these nights ({len(folds)} folds over "
                    f"{len(subjects)} subjects, test epochs pooled), beside the parent on "
                    "the same epochs."
                ),
            },
        },
        init_weights=parent_path,
        frozen=frozen,
        progress=progress,
    )


@dataclass(frozen=True)
class FinetuneRun:
    """The output folder of one fine-tuning (``tinysleepnet finetune --out OUT``; see the
    module's layout).

    Parameters
    ----------
    folder : Path
        The output folder; nothing is written by making the object.
    """

    folder: Path

    START: ClassVar[str] = "start.json"
    FOLDS: ClassVar[str] = "folds"
    COMPARISON: ClassVar[str] = "finetune.json"
    COMPARISON_MARKDOWN: ClassVar[str] = "FINETUNE.md"

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))

    @property
    def start_path(self) -> Path:
        """``start.json``: what the fine-tuning starts from (:meth:`claim`)."""
        return self.folder / self.START

    @property
    def folds(self) -> CvRun:
        """The folds' training runs, a cross-validation run's
        (:meth:`~tinysleepnet.evaluation.run.CvRun.fold`: ``OUT/folds/fold_07``)."""
        return CvRun(self.folder / self.FOLDS)

    @property
    def comparison_path(self) -> Path:
        """``finetune.json``: the parent's and the fine-tuned scores, for programs."""
        return self.folder / self.COMPARISON

    @property
    def comparison_markdown_path(self) -> Path:
        """``FINETUNE.md``: the same, for people."""
        return self.folder / self.COMPARISON_MARKDOWN

    def claim(
        self, parent: dict[str, Any], trainable: str, config: Config, data: dict[str, Any]
    ) -> None:
        """Record what the fine-tuning starts from; refuse a folder that started otherwise.

        The resume-or-refuse rule: a rerun from the same parent (by SHA-256), training the
        same part with the same settings (but for those whose role,
        :data:`~tinysleepnet.config.ROLES`, is ``call`` or ``runtime``: the device, the
        threads) on the same nights (names, epoch counts and contents) resumes the folds
        and the release; any other would resume folds trained from the first start, or on
        the first nights, and release them under the second one's name. A record of a
        version that did not keep the settings or the nights is checked on what it holds;
        one without the nights resumes with a warning that they are unchecked, and they are
        not added to it: the folds already trained may be on others.

        Parameters
        ----------
        parent : dict
            The card's ``parent`` entry (``name``, ``sha256``, ...).
        trainable : str
            What is trained (:data:`~tinysleepnet.workflows.TRAINABLE`).
        config : Config
            The fine-tuning's settings (:func:`finetune_config`).
        data : dict
            The nights: their :func:`~tinysleepnet.evaluation.run.data_identity` (names,
            epoch counts, channel, rate and content SHA-256).

        Raises
        ------
        PathError
            Naming ``start.json`` and what differs (the parent, trainable, settings, or the
            nights added, removed, recounted or with other contents).
        """
        path = self.start_path
        if not path.is_file():
            write_json(
                path,
                {
                    "parent": parent,
                    "trainable": trainable,
                    "config": config.to_dict(),
                    "data": data,
                },
            )
            return
        earlier = read_json(path, "fine-tuning start")
        before = earlier.get("parent") or {}
        if before.get("sha256") != parent["sha256"]:
            raise PathError(
                path,
                f"holds a fine-tuning with parent {before.get('name')!r} (SHA-256 "
                f"{str(before.get('sha256'))[:12]}...), not {parent['name']!r} "
                f"({parent['sha256'][:12]}...); use another output folder",
            )
        if earlier.get("trainable") != trainable:
            raise PathError(
                path,
                f"holds a fine-tuning with trainable {earlier.get('trainable')!r}, not "
                f"{trainable!r}; use another output folder",
            )
        if "config" in earlier:
            try:
                started = Config.from_dict(earlier["config"])
            except (TinySleepNetError, TypeError) as err:
                raise PathError(path, f"not usable settings: {err}") from err
            if detail := config.differences(started, ignore=RERUN_FREE_FIELDS):
                raise PathError(
                    path,
                    f"holds a fine-tuning with other settings: {detail}; rerun with the run's "
                    "or use another output folder",
                )
        if "data" not in earlier:
            logger.warning(
                "%s names no nights (an earlier version's): the folds already trained are "
                "not checked to be on these nights",
                path,
            )
        elif detail := data_differences(data, earlier["data"]):
            raise PathError(
                path,
                f"holds a fine-tuning on other nights: {detail}; rerun on the run's nights or "
                "use another output folder",
            )

    def write_comparison(self, comparison: dict[str, Any], parent_name: str) -> None:
        """Write the parent's and the fine-tuned scores: ``finetune.json`` and
        ``FINETUNE.md`` (:func:`comparison_markdown`), each atomically."""
        write_json(self.comparison_path, comparison)
        write_text_atomic(
            self.comparison_markdown_path, comparison_markdown(comparison, parent_name)
        )


def finetune_config(
    parent: Config,
    lr: float | None = None,
    max_passes: int | None = None,
    patience: int | None = None,
    device: str | None = None,
) -> Config:
    """The parent's settings with fine-tuning's learning rate, passes, patience and device.

    A stall only warns (``on_stall="warn"``): a restart with the stall remedy would feed the
    parent's weights a signal at another scale.
    """
    return parent.replace(
        on_stall="warn",
        lr=lr if lr is not None else LR_SHARE * parent.lr,
        max_passes=max_passes or min(parent.max_passes, MAX_PASSES),
        patience=patience or min(parent.patience, PATIENCE),
        device=device or parent.device,
        extra={**parent.extra, "finetuned": True},
    )


def comparison_markdown(comparison: dict[str, Any], parent_name: str) -> str:
    """The parent's and the fine-tuned model's scores on the held-out subjects, as Markdown."""
    return "\n".join(
        [
            f"# Fine-tuning {parent_name}",
            "",
            f"Held-out subjects of {comparison['n_folds']} folds over "
            f"{comparison['n_subjects']} subjects, test epochs pooled "
            f"({comparison['fine_tuned']['n_epochs']} epochs); trained: "
            f"{comparison['trainable']}, learning rate {comparison['lr']:g}.",
            "",
            *scores_table(
                [("parent", comparison["parent"]), ("fine-tuned", comparison["fine_tuned"])]
            ),
            "",
        ]
    )


def _parent(path: Path) -> dict[str, Any]:
    """The card's ``parent`` entry: name, weights' SHA-256 and, for a released or installed
    model (:meth:`ModelFolder.holding`), its card's name and training data."""
    entry = {"name": path.stem, "sha256": file_checksum(path), "file": str(path)}
    if (folder := ModelFolder.holding(path)) is not None:
        card = folder.read_card()
        entry |= {
            "name": card["name"],
            "data_sha256": card["data"]["content_sha256"],
            "n_nights": card["data"]["n_nights"],
        }
    return entry
