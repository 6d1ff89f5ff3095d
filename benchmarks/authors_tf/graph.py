"""The authors' TinySleepNet graph under ``tf.compat.v1`` (TensorFlow environment only).

Written after their ``model.py`` and ``nn.py`` (github.com/akaraspt/tinysleepnet) as their
training and ``predict.py`` run it: TF1 layers (``conv2d`` over ``(samples, 1)`` with "same"
padding and no bias, ``batch_normalization`` left in inference mode (moving mean 0, moving
variance 1, epsilon 1e-3, so only gamma and beta act), ``max_pooling2d`` "same", dropout 0.5
when ``is_training``), one ``LSTMCell(use_peepholes=True, forget_bias=1.0)`` in a
``DropoutWrapper`` run by ``dynamic_rnn`` over sequences with their lengths, a dense layer;
the loss is cross-entropy weighted by position (padding 0) and by class, divided by the sum
of the position weights, plus ``l2_weight * tf.nn.l2_loss`` of the four conv kernels; the
gradients are clipped to a global norm before ``tf.train.AdamOptimizer`` applies them.

Only the names ``tf.contrib`` had are replaced (``tf.compat.v1.nn.rnn_cell``); the streaming
metrics, summaries and savers of their class are left out, being no part of a step.
Requires ``TF_USE_LEGACY_KERAS=1`` and ``tf-keras`` (set before TensorFlow is imported).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1
v1.disable_eager_execution()


@dataclass
class AuthorsGraph:
    """Placeholders and outputs of one built graph."""

    signals: Any  # (nights * seq_length, samples, 1, 1)
    labels: Any
    loss_weights: Any
    seq_lengths: Any
    is_training: Any
    init_state: Any  # LSTMStateTuple(c, h) of the one layer
    final_state: Any
    logits: Any
    loss: Any
    loss_ce: Any
    loss_l2: Any
    variables: list[Any]
    grads: list[Any]  # before clipping
    global_norm: Any
    train_op: Any


def _variance_scaling() -> Any:
    return v1.variance_scaling_initializer(scale=1.0, mode="fan_in", distribution="normal")


def _conv(name: str, x: Any, filters: int, size: int, stride: int) -> Any:
    with v1.variable_scope(name):
        return v1.layers.conv2d(
            x, filters, (size, 1), (stride, 1), padding="same", use_bias=False,
            kernel_initializer=_variance_scaling(),
        )  # fmt: skip


def _batch_norm(name: str, x: Any) -> Any:
    # No ``training`` argument, as in their nn.batch_norm: the layer stays in inference mode.
    with v1.variable_scope(name):
        return v1.layers.batch_normalization(x, momentum=0.99, epsilon=0.001)


def _pool(name: str, x: Any, size: int) -> Any:
    with v1.variable_scope(name):
        return v1.layers.max_pooling2d(x, (size, 1), (size, 1), padding="same")


def build(cfg: dict[str, Any]) -> AuthorsGraph:
    """Build the graph of their ``TinySleepNet(config, use_rnn=True)`` in the default graph.

    ``cfg`` holds their config keys (``sampling_rate``, ``input_size``, ``n_rnn_units``,
    ``seq_length``, ``batch_size``, ``class_weights``, ``l2_weight_decay``, ``learning_rate``,
    ``adam_beta_1``, ``adam_beta_2``, ``adam_epsilon``, ``clip_grad_value``) and
    ``n_filters`` (128 in their code).
    """
    n_filters, units = cfg["n_filters"], cfg["n_rnn_units"]
    with v1.variable_scope("placeholders"):
        signals = v1.placeholder(tf.float32, (None, cfg["input_size"], 1, 1), name="signals")
        labels = v1.placeholder(tf.int32, (None,), name="labels")
        is_training = v1.placeholder(tf.bool, (), name="is_training")
        loss_weights = v1.placeholder(tf.float32, (None,), name="loss_weights")
        seq_lengths = v1.placeholder(tf.int32, (None,), name="seq_lengths")
    global_step = v1.Variable(0, trainable=False, name="global_step")

    with v1.variable_scope("cnn"):
        size, stride = int(cfg["sampling_rate"] / 2.0), int(cfg["sampling_rate"] / 16.0)
        net = tf.nn.relu(_batch_norm("bn_1", _conv("conv1d_1", signals, n_filters, size, stride)))
        net = _pool("maxpool1d_1", net, 8)
        net = v1.layers.dropout(net, rate=0.5, training=is_training, name="drop_1")
        for name in ("2_1", "2_2", "2_3"):
            net = _conv(f"conv1d_{name}", net, n_filters, 8, 1)
            net = tf.nn.relu(_batch_norm(f"bn_{name}", net))
        net = _pool("maxpool1d_2", net, 4)
        net = v1.layers.flatten(net, name="flatten_2")
    net = v1.layers.dropout(net, rate=0.5, training=is_training, name="drop_2")

    with v1.variable_scope("rnn"):
        seq_inputs = tf.reshape(net, [-1, cfg["seq_length"], net.shape[-1]])
        cell = v1.nn.rnn_cell.LSTMCell(units, use_peepholes=True, forget_bias=1.0)
        keep = tf.cond(is_training, lambda: tf.constant(0.5), lambda: tf.constant(1.0))
        cell = v1.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=keep)
        multi_cell = v1.nn.rnn_cell.MultiRNNCell([cell])
        init_state = multi_cell.zero_state(cfg["batch_size"], tf.float32)
        outputs, final_state = v1.nn.dynamic_rnn(
            multi_cell, seq_inputs, sequence_length=seq_lengths, initial_state=init_state
        )
        net = tf.reshape(outputs, [-1, units])
    with v1.variable_scope("softmax_linear"):
        logits = v1.layers.dense(
            net, 5, kernel_initializer=_variance_scaling(),
            bias_initializer=v1.constant_initializer(0.0),
        )  # fmt: skip

    per_epoch = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    class_weights = np.asarray(cfg["class_weights"], np.float32)
    by_class = tf.reduce_sum(tf.one_hot(labels, 5) * class_weights, 1)
    loss_ce = tf.reduce_sum(loss_weights * per_epoch * by_class) / tf.reduce_sum(loss_weights)
    kernels = [v for v in v1.trainable_variables() if "conv1d" in v.name and "kernel" in v.name]
    loss_l2 = tf.add_n([tf.nn.l2_loss(k) for k in kernels]) * cfg["l2_weight_decay"]
    loss = loss_ce + loss_l2

    optimizer = v1.train.AdamOptimizer(
        cfg["learning_rate"], cfg["adam_beta_1"], cfg["adam_beta_2"], cfg["adam_epsilon"]
    )
    grads_and_vars = optimizer.compute_gradients(loss, v1.trainable_variables())
    grads, variables = zip(*grads_and_vars, strict=True)
    clipped, global_norm = tf.clip_by_global_norm(grads, cfg["clip_grad_value"])
    train_op = optimizer.apply_gradients(
        zip(clipped, variables, strict=True), global_step=global_step
    )
    return AuthorsGraph(
        signals, labels, loss_weights, seq_lengths, is_training, init_state[0], final_state[0],
        logits, loss, loss_ce, loss_l2, list(variables), list(grads), global_norm, train_op,
    )  # fmt: skip


def feed(
    graph: AuthorsGraph,
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    state: tuple[np.ndarray, np.ndarray] | None,
    training: bool,
) -> dict[Any, Any]:
    """The feed of their ``train``/``evaluate`` for one minibatch (nights, seq, samples).

    ``state`` is the ``(c, h)`` carried from the previous minibatch; None starts at zero.
    """
    nights, seq, samples = x.shape
    values = {
        graph.signals: x.reshape(nights * seq, samples, 1, 1),
        graph.labels: y.reshape(-1),
        graph.loss_weights: weight.reshape(-1),
        graph.seq_lengths: weight.sum(axis=1).astype(np.int32),
        graph.is_training: training,
    }
    if state is not None:
        values[graph.init_state.c], values[graph.init_state.h] = state
    return values


def config_for(
    *,
    sfreq: float,
    samples: int,
    n_filters: int,
    units: int,
    nights: int,
    seq: int,
    recipe: dict[str, Any],
) -> dict[str, Any]:
    """Their config dict for a shape; ``recipe`` holds the package's ``Config`` fields."""
    return {
        "sampling_rate": sfreq,
        "input_size": samples,
        "n_filters": n_filters,
        "n_rnn_units": units,
        "batch_size": nights,
        "seq_length": seq,
        "class_weights": recipe["class_weights"],
        "l2_weight_decay": recipe["l2_weight"],
        "learning_rate": recipe["lr"],
        "adam_beta_1": recipe["adam_beta1"],
        "adam_beta_2": recipe["adam_beta2"],
        "adam_epsilon": recipe["adam_eps"],
        "clip_grad_value": recipe["clip_norm"],
    }
