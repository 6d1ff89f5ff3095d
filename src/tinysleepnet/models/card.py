"""The model card of a released model: what it was trained on, how good it is, what it is.

A model folder (:class:`~.folder.ModelFolder`) holds the card as ``model.json`` for programs
and as ``MODEL.md`` (:func:`card_markdown`) for people. The card names the nights (with
their epoch counts, channel, rate, epoch length and a hash of their contents), the
settings, the cross-validated scores of the same recipe (or says plainly that there are
none), the validation scores, the calibration temperature, the parent of a fine-tuned
model, the versions of the tool and its libraries, and the weights' checksum.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from ..stages import STAGES

if TYPE_CHECKING:
    from ..data.nights import Night

#: Libraries whose versions the card records.
_LIBRARIES = ("tinysleepnet", "torch", "numpy", "scipy", "mne", "scikit-learn")

#: Sentence of a card without cross-validated scores.
NOT_CROSS_VALIDATED = (
    "Not cross-validated: no scores on subjects the model never saw. The validation scores "
    "below come from the subjects that chose the checkpoint and are optimistic."
)


def data_summary(nights: Sequence[Night], valid_subjects: Sequence[str]) -> dict[str, Any]:
    """What the card says about the training data.

    Returns
    -------
    dict
        ``n_subjects``, ``n_nights``, ``n_epochs``, ``nights`` (name -> epochs),
        ``channels``, ``sfreq`` (Hz), ``epoch_sec``, ``stage_epochs`` (stage -> epochs),
        ``valid_subjects`` (held out to choose the checkpoint and fit the temperature; in
        the order given, which the release sorts) and ``content_sha256``
        (:func:`~tinysleepnet.data.nights.content_hash`).
    """
    from ..data.nights import content_hash  # with pandas: not when a card is only read

    stages = np.concatenate([night.stages for night in nights])
    return {
        "n_subjects": len({night.subject for night in nights}),
        "n_nights": len(nights),
        "n_epochs": int(stages.size),
        "nights": {night.name: night.n_epochs for night in nights},
        "channels": sorted({night.channel for night in nights}),
        "sfreq": sorted({float(night.sfreq) for night in nights}),
        "epoch_sec": [float(s) for s in sorted({n.signal_uv.shape[1] / n.sfreq for n in nights})],
        "stage_epochs": {name: int(np.sum(stages == i)) for i, name in enumerate(STAGES)},
        "valid_subjects": list(valid_subjects),
        "content_sha256": content_hash(nights),
    }


def versions() -> dict[str, str]:
    """Versions of Python and of the tool and libraries that made the model."""
    found = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def now_utc() -> str:
    """The current time, ISO 8601 in UTC to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def card_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown, for people."""
    data, config = card["data"], card["config"]
    lines = [f"# Model card: {card['name']}", "", f"Released {card['created']}."]
    if card.get("parent"):
        parent = card["parent"]
        lines += ["", f"Fine-tuned from **{parent['name']}** (weights {parent['sha256'][:12]}...)."]
    lines += [
        "",
        "## Scores on unseen subjects",
        "",
        *_scores_section(card.get("cross_validation"), card.get("fine_tuning")),
        "## Validation scores",
        "",
        f"On the validation subjects ({', '.join(data['valid_subjects'])}), which chose the "
        "checkpoint and fitted the temperature (optimistic):",
        "",
        *scores_table([("validation", card["validation"])]),
        "",
        "## Confidence",
        "",
        f"Temperature {card['temperature']:.3f}: the logits are divided by it before the "
        "softmax, so the probabilities staging writes are calibrated on the validation "
        "subjects (1.0: as trained).",
        "",
        "## Training data",
        "",
        f"- {data['n_nights']} nights of {data['n_subjects']} subjects, {data['n_epochs']} "
        f"epochs of {', '.join(f'{s:g}' for s in data['epoch_sec'])} s",
        f"- channel {', '.join(data['channels'])} at "
        f"{', '.join(f'{s:g}' for s in data['sfreq'])} Hz",
        "- epochs per stage: "
        + ", ".join(f"{stage} {n}" for stage, n in data["stage_epochs"].items()),
        f"- content SHA-256 {data['content_sha256']}",
        f"- nights: {', '.join(f'{name} ({n})' for name, n in data['nights'].items())}",
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(config, indent=2),
        "```",
        "",
        "## Files and versions",
        "",
        f"- weights `{card['weights']['file']}`, SHA-256 {card['weights']['sha256']}",
        "- " + ", ".join(f"{name} {v}" for name, v in card["versions"].items()),
    ]
    return "\n".join(lines) + "\n"


def _scores_section(cv: dict[str, Any] | None, fine_tuning: dict[str, Any] | None) -> list[str]:
    """The cross-validated scores; for a fine-tuned model, its parent's beside them."""
    if cv is None:
        return [NOT_CROSS_VALIDATED, ""]
    if fine_tuning is None:
        return [cv["description"], "", *scores_table([("cross-validation", cv)]), ""]
    return [
        f"{cv['description']} Trained: {fine_tuning['trainable']}, learning rate "
        f"{fine_tuning['lr']:g}.",
        "",
        *scores_table(
            [("parent", fine_tuning["parent"]), ("fine-tuned", fine_tuning["fine_tuned"])]
        ),
        "",
    ]


def scores_table(rows: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    """Markdown table of ACC, MF1, kappa and per-stage F1, one row per named score set."""
    header = ["", "ACC", "MF1", "kappa", *(f"F1 {s}" for s in STAGES)]
    body = [
        [
            name,
            f"{100 * s['acc']:.1f}",
            f"{100 * s['mf1']:.1f}",
            f"{s['kappa']:.3f}",
            *(f"{100 * s['per_stage_f1'][stage]:.1f}" for stage in STAGES),
        ]
        for name, s in rows
    ]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in body),
    ]


def headline(scores: dict[str, Any]) -> dict[str, Any]:
    """The card's view of :func:`~tinysleepnet.scoring.metrics.scores`: ``acc``, ``mf1``,
    ``kappa``, ``n_epochs`` and ``per_stage_f1`` (stage -> F1)."""
    return {
        "acc": scores["acc"],
        "mf1": scores["mf1"],
        "kappa": scores["kappa"],
        "n_epochs": scores["n_epochs"],
        "per_stage_f1": {stage: scores["per_stage"][stage]["f1"] for stage in STAGES},
    }
