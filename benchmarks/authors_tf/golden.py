"""Golden values from the authors' TensorFlow graph, for ``tests/training/test_authors_golden.py``.

Usage (TensorFlow environment; see README.md)::

    python benchmarks/authors_tf/golden.py tiny.npz tests/fixtures/authors_tf/golden.npz

Reads what ``export_tiny.py`` wrote (settings, a tiny network's initial weights in PyTorch's
layout, three chunks of two nights), loads the weights into the authors' graph
(``graph.py``), and takes three training steps with the LSTM state carried from chunk to
chunk, as their ``train`` does. Per step ``k`` (1..3) it records, all in PyTorch's layout:
``logits_k`` (nights, seq, 5), ``loss_k``, ``ce_k``, ``l2_k``, ``norm_k`` (global gradient
norm before clipping), ``grad_k/<parameter>`` (before clipping) and ``after_k/<parameter>``
(the weights after the step's Adam update). The input file's arrays are copied in, so the
fixture alone reproduces the run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from graph import AuthorsGraph, build, config_for, feed, v1

#: PyTorch gates are ordered input, forget, cell, output; TF's LSTMCell input, cell, forget,
#: output. The same permutation maps either order to the other.
GATES = [0, 2, 1, 3]


def _gates(array: np.ndarray, axis: int) -> np.ndarray:
    blocks = np.split(array, 4, axis=axis)
    return np.concatenate([blocks[i] for i in GATES], axis=axis)


class Layout:
    """Weights between PyTorch's layout and the TF graph's variables, both ways.

    Conv kernels ``(out, in, k)`` <-> ``(k, 1, in, out)``; the LSTM's input rows follow TF's
    flattening of ``(positions, channels)`` (PyTorch flattens ``(channels, positions)``);
    TF adds the forget bias of 1 at run time, PyTorch holds it in the bias.
    """

    def __init__(self, graph: AuthorsGraph, channels: int, positions: int) -> None:
        self.variables = {v.name.split(":")[0]: v for v in graph.variables}
        self.channels, self.positions = channels, positions
        names = ["conv1", "convs.0", "convs.1", "convs.2"]
        scopes = ["1", "2_1", "2_2", "2_3"]
        self.convs = {
            f"{n}.conv.weight": f"cnn/conv1d_{s}/conv2d/kernel"
            for n, s in zip(names, scopes, strict=True)
        }
        self.norms = {}
        for n, s in zip(names, scopes, strict=True):
            self.norms[f"{n}.norm.weight"] = f"cnn/bn_{s}/batch_normalization/gamma"
            self.norms[f"{n}.norm.bias"] = f"cnn/bn_{s}/batch_normalization/beta"
        self.lstm = {
            k: self._find(k) for k in ("kernel", "bias", "w_i_diag", "w_f_diag", "w_o_diag")
        }

    def _find(self, suffix: str) -> str:
        (name,) = [n for n in self.variables if n.startswith("rnn/") and n.endswith("/" + suffix)]
        return name

    def to_tf(self, torch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        tf = {t: torch[p].transpose(2, 1, 0)[:, None] for p, t in self.convs.items()}
        tf |= {t: torch[p] for p, t in self.norms.items()}
        w_in = torch["lstm.input_proj.weight"]  # (4H, channels * positions)
        w_in = w_in.reshape(len(w_in), self.channels, self.positions).transpose(0, 2, 1)
        w = np.concatenate([w_in.reshape(len(w_in), -1), torch["lstm.hidden_proj.weight"]], 1)
        tf[self.lstm["kernel"]] = _gates(w, 0).T
        bias = torch["lstm.input_proj.bias"].copy()
        units = len(bias) // 4
        bias[units : 2 * units] -= 1.0  # TF's forget_bias, added at run time
        tf[self.lstm["bias"]] = _gates(bias, 0)
        for i, gate in enumerate("ifo"):
            tf[self.lstm[f"w_{gate}_diag"]] = torch["lstm.peep"][i]
        tf["softmax_linear/dense/kernel"] = torch["classifier.weight"].T
        tf["softmax_linear/dense/bias"] = torch["classifier.bias"]
        return tf

    def to_torch(self, tf: dict[str, np.ndarray], forget_bias: float) -> dict[str, np.ndarray]:
        """PyTorch's arrays; ``forget_bias`` 1 for weights, 0 for gradients."""
        torch = {p: tf[t][:, 0].transpose(2, 1, 0) for p, t in self.convs.items()}
        torch |= {p: tf[t] for p, t in self.norms.items()}
        w = _gates(tf[self.lstm["kernel"]].T, 0)
        n_in = self.channels * self.positions
        w_in = w[:, :n_in].reshape(len(w), self.positions, self.channels).transpose(0, 2, 1)
        torch["lstm.input_proj.weight"] = np.ascontiguousarray(w_in.reshape(len(w), -1))
        torch["lstm.hidden_proj.weight"] = np.ascontiguousarray(w[:, n_in:])
        bias = _gates(tf[self.lstm["bias"]], 0).copy()
        units = len(bias) // 4
        bias[units : 2 * units] += forget_bias
        torch["lstm.input_proj.bias"] = bias
        torch["lstm.peep"] = np.stack([tf[self.lstm[f"w_{g}_diag"]] for g in "ifo"])
        torch["classifier.weight"] = tf["softmax_linear/dense/kernel"].T.copy()
        torch["classifier.bias"] = tf["softmax_linear/dense/bias"]
        return torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tiny", type=Path, help="the .npz export_tiny.py wrote")
    parser.add_argument("out", type=Path, help="the fixture to write")
    args = parser.parse_args()
    with np.load(args.tiny) as f:
        tiny = {k: f[k] for k in f.files}
    recipe = json.loads(str(tiny["config"]))
    x, y, weight = tiny["x"], tiny["y"], tiny["weight"]
    init = {k.removeprefix("init/"): v for k, v in tiny.items() if k.startswith("init/")}
    channels = recipe["n_filters"]
    positions = init["lstm.input_proj.weight"].shape[1] // channels
    nights, seq = recipe["batch_nights"], recipe["seq_len"]
    cfg = config_for(
        sfreq=recipe["sfreq"], samples=x.shape[-1], n_filters=channels,
        units=recipe["lstm_units"], nights=nights, seq=seq, recipe=recipe,
    )  # fmt: skip
    v1.set_random_seed(0)
    graph = build(cfg)
    layout = Layout(graph, channels, positions)
    one_thread = v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    sess = v1.Session(config=one_thread)
    sess.run(v1.global_variables_initializer())
    for name, value in layout.to_tf(init).items():
        layout.variables[name].load(value, sess)
    out = dict(tiny)
    names = [v.name.split(":")[0] for v in graph.variables]
    state = None
    for k in range(1, x.shape[1] // seq + 1):
        chunk = slice((k - 1) * seq, k * seq)
        # is_training=False: dropout off (the only thing it switches; see graph.py)
        values = feed(graph, x[:, chunk], y[:, chunk], weight[:, chunk], state, training=False)
        fetched = sess.run(
            [graph.logits, graph.loss, graph.loss_ce, graph.loss_l2, graph.global_norm,
             graph.grads, graph.final_state, graph.train_op],
            values,
        )  # fmt: skip
        logits, loss, ce, l2, norm, grads, final_state, _ = fetched
        state = (final_state.c, final_state.h)
        out[f"logits_{k}"] = logits.reshape(nights, seq, -1)
        out |= {f"loss_{k}": loss, f"ce_{k}": ce, f"l2_{k}": l2, f"norm_{k}": norm}
        grads_tf = dict(zip(names, grads, strict=True))
        for name, value in layout.to_torch(grads_tf, forget_bias=0.0).items():
            out[f"grad_{k}/{name}"] = value
        after = dict(zip(names, sess.run(graph.variables), strict=True))
        for name, value in layout.to_torch(after, forget_bias=1.0).items():
            out[f"after_{k}/{name}"] = value
        print(f"step {k}: loss {loss:.6f} (ce {ce:.6f}, l2 {l2:.6f}), gradient norm {norm:.4f}")
    import tensorflow as tf

    out["tensorflow"] = np.array(tf.__version__)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **{k: np.asarray(v) for k, v in out.items()})
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
