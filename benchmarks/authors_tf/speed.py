"""Speed of the authors' TensorFlow graph (TensorFlow environment; ``compare.py`` runs it).

Usage::

    python benchmarks/authors_tf/speed.py train --threads 2
    python benchmarks/authors_tf/speed.py night-predict --threads 2
    python benchmarks/authors_tf/speed.py night-whole --threads 2

One measurement per process; prints one JSON line: ``times`` and ``cpu_times`` (s) of each
timed repeat after a warm-up, and ``peak_mib``, the growth of the process's peak resident
set from before the warm-up to the end (what the work needed on top of TensorFlow, the
graph and the input). The graph is the recipe's (128 filters, 128 LSTM units, 3000-sample
epochs, float32), in one session with ``intra_op_parallelism_threads=threads`` and
``inter_op_parallelism_threads=1`` (as many threads as the package gets, no more).

* ``train``: one ``train_op`` step at their training shape (15 nights x 20 epochs, LSTM
  state fed from the previous step, ``is_training`` True: dropout on), three nights ending
  inside the chunk; the class-weighted loss, L2, clipping to norm 5, Adam.
* ``night-predict``: a 1000-epoch night staged as their ``predict.py`` does (config
  ``predict``: batch 1, sequence 1): one ``session.run`` per epoch fetching what their
  ``evaluate`` fetches (loss, predictions, the state to feed to the next epoch).
* ``night-whole``: the best their graph allows for one night: batch 1, the sequence length
  set to the whole night, one ``session.run``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from graph import build, feed, v1

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/: the shared timing loop
from timing import timed

#: The package's paper recipe fields that the graph needs (class weights, L2, Adam, clip).
RECIPE = {
    "class_weights": [1.0, 1.5, 1.0, 1.0, 1.0],
    "l2_weight": 1e-3,
    "lr": 1e-4,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_eps": 1e-8,
    "clip_norm": 5.0,
}
SAMPLES, FILTERS, UNITS = 3000, 128, 128
TRAIN_NIGHTS, TRAIN_SEQ, NIGHT_EPOCHS = 15, 20, 1000


def _config(nights: int, seq: int) -> dict[str, Any]:
    from graph import config_for

    return config_for(
        sfreq=100.0, samples=SAMPLES, n_filters=FILTERS, units=UNITS, nights=nights,
        seq=seq, recipe=RECIPE,
    )  # fmt: skip


def _session(threads: int) -> Any:
    config = v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
    sess = v1.Session(config=config)
    sess.run(v1.global_variables_initializer())
    return sess


def _train(threads: int) -> Callable[[], None]:
    graph = build(_config(TRAIN_NIGHTS, TRAIN_SEQ))
    sess = _session(threads)
    rng = np.random.default_rng(0)
    shape = (TRAIN_NIGHTS, TRAIN_SEQ)
    x = (rng.normal(0, 30, (*shape, SAMPLES))).astype(np.float32)
    y = rng.integers(0, 5, shape).astype(np.int32)
    weight = np.ones(shape, np.float32)
    weight[-3:, 12:] = 0  # three nights end inside the chunk
    x[weight == 0] = 0
    state: list[Any] = [None]

    def step() -> None:
        values = feed(graph, x, y, weight, state[0], training=True)
        final, _ = sess.run([graph.final_state, graph.train_op], values)
        state[0] = (final.c, final.h)

    return step


def _night(threads: int, seq: int) -> Callable[[], None]:
    graph = build(_config(1, seq))
    sess = _session(threads)
    rng = np.random.default_rng(0)
    night = rng.normal(0, 30, (NIGHT_EPOCHS, SAMPLES)).astype(np.float32)
    labels = np.zeros((1, seq), np.int32)
    weight = np.ones((1, seq), np.float32)
    fetches = [graph.loss, graph.logits, graph.final_state]

    def stage() -> None:
        state = None
        predictions = []
        for start in range(0, NIGHT_EPOCHS, seq):
            x = night[None, start : start + seq]
            _, logits, final = sess.run(fetches, feed(graph, x, labels, weight, state, False))
            state = (final.c, final.h)
            predictions.append(logits.argmax(1))
        np.concatenate(predictions)

    return stage


def measure(name: str, threads: int, repeats: int) -> dict[str, Any]:
    """Warm-up then ``repeats`` timed runs of one measurement."""
    v1.set_random_seed(0)
    builders: dict[str, Callable[[], Callable[[], None]]] = {
        "train": lambda: _train(threads),
        "night-predict": lambda: _night(threads, 1),
        "night-whole": lambda: _night(threads, NIGHT_EPOCHS),
    }
    timing = timed(builders[name], repeats)
    import tensorflow as tf

    return {"measure": name, "impl": "authors-tf", "version": f"tensorflow {tf.__version__}",
            **timing}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("measure", choices=["train", "night-predict", "night-whole"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.measure, args.threads, args.repeats)))


if __name__ == "__main__":
    main()
