"""Export a tiny PyTorch TinySleepNet and its minibatches for ``golden.py`` (main environment).

Usage::

    python benchmarks/authors_tf/export_tiny.py tiny.npz

Writes the settings (JSON), the initial weights (``init/<parameter>``, PyTorch layout) and
three consecutive chunks of two nights (``x`` in microvolts, ``y`` stages, ``weight`` 1 for
real epochs and 0 for padding), which the authors' TensorFlow graph then trains on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from tinysleepnet.config import Config
from tinysleepnet.nn.model import TinySleepNet

#: The recipe scaled down: 3-s epochs at 100 Hz (kernel 50, stride 6 as at 30 s), 8 filters,
#: 16 LSTM units, two nights of three 4-epoch chunks. Dropout 0: the TF graph runs with
#: ``is_training=False``, which in the authors' graph switches off dropout and nothing else
#: (their batch norm is in inference mode either way). Clipping at norm 1 is active in the
#: steps (the fixture records the norms), L2 and lr are the paper's.
TINY = Config(
    epoch_sec=3.0,
    n_filters=8,
    lstm_units=16,
    dropout=0.0,
    batch_nights=2,
    seq_len=4,
    clip_norm=1.0,
    device="cpu",
)
N_CHUNKS = 3
#: Epochs of each night; the second ends inside the last chunk (2 padded positions).
NIGHT_EPOCHS = (12, 10)
SEED = 20


def tiny_batches(config: Config, seed: int) -> dict[str, np.ndarray]:
    """EEG-like noise in microvolts (std 40 uV) and random stages, N1 included."""
    rng = np.random.default_rng(seed)
    n_epochs = config.seq_len * N_CHUNKS
    shape = (config.batch_nights, n_epochs)
    x = rng.normal(0.0, 40.0, (*shape, config.epoch_samples)).astype(np.float32)
    y = rng.integers(0, 5, shape).astype(np.int64)
    weight = np.zeros(shape, np.float32)
    for night, length in enumerate(NIGHT_EPOCHS):
        weight[night, :length] = 1.0
    x[weight == 0], y[weight == 0] = 0.0, 0  # padding, as the training loop feeds it
    return {"x": x, "y": y, "weight": weight}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the .npz to write")
    args = parser.parse_args()
    torch.manual_seed(SEED)
    net = TinySleepNet(TINY)  # the authors' initialisation
    arrays = {f"init/{k}": v.detach().numpy() for k, v in net.state_dict().items()}
    np.savez(
        args.out,
        config=np.array(json.dumps(TINY.to_dict())),
        **tiny_batches(TINY, SEED),
        **arrays,
    )
    print(f"wrote {args.out}: {sum(a.size for a in arrays.values())} weights")


if __name__ == "__main__":
    main()
