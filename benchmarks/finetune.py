"""Fine-tuning on recordings unlike the parent's: what each option buys, on simulated cohorts.

Usage::

    python benchmarks/finetune.py [--work DIR] [--long]

Simulates two Sleep-EDF-shaped cohorts (:func:`~tinysleepnet.data.simulate.simulate_cohort`):
the parent's (8 subjects, difficulty 1) and a lab's own (4 other subjects, difficulty 1.5,
i.e. stages that overlap more and gains that vary more between nights, recorded at half the
amplitude, as by another amplifier). A parent model is released from the first cohort
(the ``fast`` preset with a narrower network and short nights, so the whole script takes
about 6 CPU-minutes), then fine-tuned on the second with
:func:`~tinysleepnet.workflows.finetune.finetune` in 2 subject-wise folds, once per option.
It prints, as Markdown, the parent's and each fine-tuned model's scores on the same
held-out epochs (the table in the README's "Your own recordings"). Everything is seeded;
reruns reuse ``--work``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from pathlib import Path

from tinysleepnet.config import preset
from tinysleepnet.data.nights import MANIFEST, load_nights, save_night
from tinysleepnet.data.prepare import prepare
from tinysleepnet.data.simulate import simulate_cohort
from tinysleepnet.models.card import scores_table
from tinysleepnet.workflows.finetune import finetune
from tinysleepnet.workflows.release import release

#: Amplitude of the lab's recordings relative to the parent's.
GAIN = 0.5

#: Options compared: (what is trained, learning rate as a share of the parent's).
OPTIONS = (("all", 1.0), ("all", 0.1), ("head", 0.1))


def cohort(work: Path, name: str, subjects: range, difficulty: float, n_epochs: int) -> Path:
    """Simulate and prepare a cohort once; returns the prepared folder."""
    prepared = work / name / "prepared"
    if not (prepared / MANIFEST).is_file():
        recordings = work / name / "recordings"
        simulate_cohort(
            recordings,
            subjects,
            nights=(1,),
            n_epochs=n_epochs,
            seed=1,
            difficulty=difficulty,
            quirks=False,
            n_jobs=2,
        )
        prepare(recordings, prepared, progress=False)
    return prepared


def rescaled(prepared: Path, out: Path, gain: float) -> Path:
    """A copy of a prepared folder with every signal multiplied by ``gain``."""
    if not (out / MANIFEST).is_file():
        for night in load_nights(prepared):
            scaled = dataclasses.replace(night, signal_uv=night.signal_uv * gain)
            save_night(out / f"{night.name}.npz", scaled)
        shutil.copyfile(prepared / MANIFEST, out / MANIFEST)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("finetune-benchmark"))
    parser.add_argument(
        "--long", action="store_true", help="600-epoch nights and 8 passes (about 3x the time)"
    )
    args = parser.parse_args()
    n_epochs, passes = (600, 8) if args.long else (300, 4)
    started = time.perf_counter()
    parent_data = cohort(args.work, "parent", range(8), difficulty=1.0, n_epochs=n_epochs)
    own = cohort(args.work, "own", range(20, 24), difficulty=1.5, n_epochs=n_epochs)
    own = rescaled(own, args.work / "own" / "prepared_gain", GAIN)
    config = preset("fast", n_filters=32, lstm_units=64, max_passes=passes, patience=passes)
    config = config.replace(precision="float32", device="cpu")
    parent_dir = args.work / "parent" / "model"
    release(parent_data, parent_dir, config, progress=False)
    rows = []
    for trainable, share in OPTIONS:
        card = finetune(
            parent_dir,
            own,
            args.work / f"tuned_{trainable}_{share:g}",
            trainable=trainable,  # type: ignore[arg-type]
            lr=share * config.lr,
            n_folds=2,
            max_passes=passes,
            patience=passes,
            progress=False,
        )
        tuning = card["fine_tuning"]
        if not rows:
            rows.append(("parent (not fine-tuned)", tuning["parent"]))
        rows.append((f"fine-tuned: {trainable}, lr {share:g} x parent's", tuning["fine_tuned"]))
    print(
        f"Parent: 8 simulated subjects (difficulty 1), {n_epochs}-epoch nights. Own: 4 "
        f"subjects (difficulty 1.5) at {GAIN:g} x amplitude, 2 subject-wise folds; "
        f"{tuning['fine_tuned']['n_epochs']} held-out epochs pooled. {passes} passes, "
        f"parent lr {config.lr:g}.\n"
    )
    print("\n".join(scores_table(rows)))
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
