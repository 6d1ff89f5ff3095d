"""Training on one real night: each preset and each single deviation from ``paper``.

Usage::

    python benchmarks/real_night.py --out real-night                    # every run, 30 passes
    python benchmarks/real_night.py ~/sleep-edf-sc4001 --out rn  # a raw or prepared folder
    python benchmarks/real_night.py --out rn --runs paper fast --passes 60
    python benchmarks/real_night.py --out rn --runs paper --passes 400 --steps 10000  # the stall
    python benchmarks/real_night.py --out rn --whole-night --runs fast --set lr=3e-4  # a variant

The night is the Sleep-EDF night SC4001E0 (by default the repository's cropped copy,
``tests/fixtures/sleep-edf-real/``, which prepares to the same 841 epochs as the whole
recording; a folder already prepared by ``tinysleepnet prepare`` is used as it is). Its
prepared epochs are cut in time: the first two thirds train, the last third validates.
This is a **same-night holdout, not a subject-independent score**: it separates fitting
the trained epochs from staging unseen epochs of the same recording, nothing more. With
``--whole-night`` every epoch trains and validates (a question of fitting alone).

Each run is :func:`tinysleepnet.training.fit.train` without early stopping, so every pass
is scored. Per pass, ``log.csv`` in the run's folder holds the training loss, the macro-F1
and the share of the most predicted stage on the trained epochs (as the network predicted
them while it trained: dropout on, augmented) and on the held-out epochs. Printed and saved
(``--out``/``real_night.json`` and ``real_night.csv``): per run, the passes at one stage
(held-out predictions at least 95 % one stage), the pass from which it stays off one stage,
the best held-out macro-F1 and its pass, the share of dead CNN features after the last pass
(zero for every trained epoch), the optimizer steps and the CPU seconds of training.
"Off one stage from pass N" is the pass after the last one at one stage (and "-" when the
run ended at one stage); the steps before it are the optimizer steps the stall lasted.
"Train loss >= guess" lists the passes whose training loss was no lower than guessing the
trained epochs' stage frequencies (:func:`~tinysleepnet.training.stall.guess_loss`; such a
network has learnt nothing from the EEG), and "fitting from pass N" is the pass after the
last of them.

``--runs`` chooses runs by name (see :data:`RUNS`); ``--set FIELD=VALUE`` (repeatable)
changes a setting of every chosen run, whose name (and folder) then ends in the changes;
a rerun with the same ``--out`` reuses every finished run. ``--steps`` bounds a run by
optimizer steps instead of passes (for the question how long the paper recipe stays at one
stage).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from time_to_accuracy import candidate
from tinysleepnet.config import Config, preset
from tinysleepnet.data.nights import MANIFEST, Night, load_nights
from tinysleepnet.data.prepare import prepare
from tinysleepnet.nn.checkpoint import load_model
from tinysleepnet.training.batches import split_nights
from tinysleepnet.training.fit import train
from tinysleepnet.training.loop import _plan
from tinysleepnet.training.run import TrainingRun
from tinysleepnet.training.stall import ONE_STAGE_SHARE, guess_loss
from tta_report import ranges

#: The repository's copy of the night (cropped; the same 841 prepared epochs).
DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sleep-edf-real"

#: Runs by name: a preset and the settings changed from it (``FIELD=VALUE``). Every run but
#: ``on_stall=rescale`` only warns when it stalls, so each measures its recipe alone. With
#: one training night, ``batch_nights`` changes nothing unless the night is cut into
#: segments, so the deviation in minibatch is measured with the segments.
RUNS: dict[str, tuple[str, list[str]]] = {
    name: (base, [*changes, *([] if name == "on_stall=rescale" else ["on_stall=warn"])])
    for name, (base, changes) in {
        "paper": ("paper", []),
        "fast": ("fast", []),
        "input_scale=0.05": ("paper", ["input_scale=0.05"]),
        "init=pytorch": ("paper", ["init=pytorch"]),
        "peepholes=false": ("paper", ["peepholes=false"]),
        "segment_epochs=360": ("paper", ["segment_epochs=360"]),
        "segment_epochs=360,batch_nights=2": ("paper", ["segment_epochs=360", "batch_nights=2"]),
        "schedule=onecycle": ("paper", ["schedule=onecycle"]),
        "schedule=onecycle,lr=1e-3": ("paper", ["schedule=onecycle", "lr=1e-3"]),
        "remedy": ("paper", ["input_scale=0.05", "segment_epochs=360"]),
        "adam=torch": ("paper", ["adam=torch"]),
        "on_stall=rescale": ("paper", []),
    }.items()
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "data",
        type=Path,
        nargs="?",
        default=DEFAULT_DATA,
        help="the night: a prepared folder, or raw Sleep-EDF files to prepare "
        "(default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="change a setting of every chosen run (repeatable)",
    )
    parser.add_argument(
        "--passes", type=int, default=30, help="passes of each run (fast: its preset's 12)"
    )
    parser.add_argument(
        "--steps", type=int, help="stop a run at the first pass ending at or after this step"
    )
    parser.add_argument("--train-frac", type=float, default=2 / 3, help="epochs trained on")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--whole-night",
        action="store_true",
        help="train and validate on every epoch of the night (fitting only, no holdout)",
    )
    return parser.parse_args()


def holdout(data: Path, out: Path, train_frac: float) -> tuple[Night, Night]:
    """The night's first ``train_frac`` of epochs and the rest, as two nights.

    ``data`` is prepared into ``out/prepared`` unless it is a prepared folder already.
    """
    if not (data / MANIFEST).is_file():
        if not (out / "prepared" / MANIFEST).is_file():
            prepare(data, out / "prepared", progress=False)
        data = out / "prepared"
    (night,) = load_nights(data)
    if train_frac >= 1:  # --whole-night
        return night, night
    cut = round(train_frac * night.n_epochs)
    return tuple(  # type: ignore[return-value]
        dataclasses.replace(
            night,
            signal_uv=night.signal_uv[part],
            stages=night.stages[part],
            name=f"{night.name}/{label}",
        )
        for part, label in ((slice(None, cut), "trained"), (slice(cut, None), "held-out"))
    )


def dead_features(checkpoint: Path, night: Night) -> float:
    """Share of the CNN's features (the LSTM's inputs) that are zero for every epoch of a
    night: dead ReLUs, which no gradient revives."""
    model = load_model(checkpoint)
    with torch.no_grad():
        features = model.epoch_features(torch.from_numpy(np.array(night.signal_uv)))
    return float((features.amax(dim=0) <= 0).float().mean())


def steps_per_pass(config: Config, night: Night, passes: int) -> list[int]:
    """Optimizer steps of each pass, counted from the passes' plans as training draws them."""
    lengths = [n.n_epochs for n in split_nights([night], config.segment_epochs)]
    return [_plan(config, p, lengths)[1] for p in range(1, passes + 1)]


def run(name: str, args: argparse.Namespace, nights: tuple[Night, Night], out: Path) -> dict:
    """Train one run without early stopping; its per-pass log and summary."""
    preset_name, settings = RUNS[name]
    # fast's one-cycle schedule spans its preset's passes: it keeps them
    passes = preset(preset_name).max_passes if preset_name == "fast" else args.passes
    _, config = candidate(preset_name, [*settings, *args.set], passes)
    name = ",".join([name, *args.set])
    if args.steps:
        cumulative = np.cumsum(steps_per_pass(config, nights[0], 100_000))
        passes = int(np.searchsorted(cumulative, args.steps) + 1)
        config = config.replace(max_passes=passes)
    config = config.replace(patience=config.max_passes)
    folder = out / name
    print(f"training {name}: {passes} passes", flush=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = train([nights[0]], [nights[1]], config, folder, progress=False)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    log = result.log
    steps = steps_per_pass(result.config, nights[0], len(log))
    if result.restarted_after_pass:  # the stalled first attempt's passes come first
        first = pd.read_csv(TrainingRun(folder).stalled_dir / TrainingRun.LOG)
        steps = steps_per_pass(config, nights[0], len(first)) + steps
        log = pd.concat([first, log.assign(**{"pass": log["pass"] + len(first)})])
        log = log.reset_index(drop=True)
    one_stage = [int(p) for p in log.loc[log["valid_top_share"] >= ONE_STAGE_SHARE, "pass"]]
    # the pass after the last one at one stage, if the run went on past it
    left = (one_stage[-1] + 1 if one_stage else 1) if len(log) not in one_stage else None
    guess = guess_loss(nights[0].stages, config.class_weights)
    no_better = [int(p) for p in log.loc[log["train_loss"] >= guess, "pass"]]
    fits = (no_better[-1] + 1 if no_better else 1) if len(log) not in no_better else None
    summary = {
        "run": name,
        "guess_loss": round(guess, 3),
        "no_better_than_guess_passes": ranges(no_better),
        "fits_from_pass": fits,
        "steps_before_fitting": int(sum(steps[: fits - 1])) if fits else None,
        "passes": len(log),
        "steps": int(sum(steps)),
        "one_stage_passes": ranges(one_stage),
        "off_one_stage_from_pass": left,
        "steps_before_leaving": int(sum(steps[: left - 1])) if left else None,
        "best_heldout_mf1": float(log["valid_mf1"].max()),
        "best_pass": int(log.loc[log["valid_mf1"].idxmax(), "pass"]),
        "last_train_loss": float(log["train_loss"].iloc[-1]),
        "dead_features_last_pass": round(dead_features(result.last_path, nights[0]), 3),
        "restarted_after_pass": result.restarted_after_pass,
        # CPU seconds of this process while the run trained; 0 when it was reused
        "cpu_seconds": round(cpu, 1),
        "wall_seconds": round(float(log["seconds"].sum()), 1),
    }
    return {"summary": summary, "log": log.to_dict(orient="list")}


def print_table(summaries: list[dict[str, Any]], nights: tuple[Night, Night]) -> None:
    trained, held_out = nights
    setup = (
        f"every epoch ({trained.n_epochs}) trained and validated, no holdout"
        if trained is held_out
        else f"same-night holdout: the first {trained.n_epochs} epochs trained, "
        f"the last {held_out.n_epochs} held out"
    )
    print(f"\nOne real night (SC4001E0), {setup}\n")
    print(
        "| run | passes (steps) | held-out at one stage | off one stage from pass (steps before) "
        "| train loss >= guess | fitting from pass (steps before) "
        "| best held-out MF1 (pass) | last train loss | dead CNN features | CPU s |"
    )
    print("|---" * 10 + "|")
    for s in summaries:
        left = s["off_one_stage_from_pass"]
        left = f"{left} ({s['steps_before_leaving']})" if left else "-"
        fits = s["fits_from_pass"]
        fits = f"{fits} ({s['steps_before_fitting']})" if fits else "-"
        restart = (
            f", restarted after {s['restarted_after_pass']}" if s["restarted_after_pass"] else ""
        )
        print(
            f"| {s['run']}{restart} | {s['passes']} ({s['steps']}) | {s['one_stage_passes']} | "
            f"{left} | {s['no_better_than_guess_passes']} | {fits} | "
            f"{s['best_heldout_mf1']:.3f} ({s['best_pass']}) | "
            f"{s['last_train_loss']:.3f} | {100 * s['dead_features_last_pass']:.0f} % | "
            f"{s['cpu_seconds']:.0f} |"
        )


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        nights = holdout(args.data, out, 1.0 if args.whole_night else args.train_frac)
        print(
            f"{nights[0].n_epochs} training and {nights[1].n_epochs} held-out epochs "
            "of one night (same-night holdout)",
            flush=True,
        )
        results = {name: run(name, args, nights, out) for name in args.runs}
        summaries = [r["summary"] for r in results.values()]
        print_table(summaries, nights)
        if args.out:
            (out / "real_night.json").write_text(json.dumps(results, indent=1))
            pd.DataFrame(summaries).to_csv(out / "real_night.csv", index=False)


if __name__ == "__main__":
    main()
