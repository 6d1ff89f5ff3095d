"""Dead ReLUs of a trained run: which conv channels are off for every epoch, and why.

Usage::

    python benchmarks/dead_relus.py RUN_FOLDER PREPARED_FOLDER

For the checkpoint ``last.pt`` of a run (e.g. one of ``benchmarks/real_night.py``) and the
night it trained on (the first night of a prepared folder), prints per conv block the share
of channels whose output after the ReLU is zero at every position of every fourth epoch,
and for block 2 how the dead and the living channels got there: the sum of each channel's
kernel (times its norm's scale) at initialisation (the run's seed) and now, its norm's shift,
and the mean of the block's inputs (ReLU outputs of block 1, all >= 0). A channel whose
kernel sum turned negative over inputs that are all >= 0 is negative for every epoch.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from tinysleepnet.data.nights import load_nights
from tinysleepnet.nn.checkpoint import load_model
from tinysleepnet.nn.model import TinySleepNet, _max_pool_same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a training run's folder (with last.pt)")
    parser.add_argument("prepared", type=Path, help="the prepared folder it trained on")
    args = parser.parse_args()
    torch.set_num_threads(1)
    trained = load_model(args.run / "last.pt").eval()
    torch.manual_seed(trained.config.seed)  # the weights the run started from
    initial = TinySleepNet(trained.config).eval()
    night = load_nights(args.prepared)[0]
    x = torch.from_numpy(np.array(night.signal_uv[::4]))[:, None] * trained.config.input_scale
    with torch.no_grad():
        z = x
        for i, block in enumerate([trained.conv1, *trained.convs], start=1):
            z = block(z)
            dead = float((z.amax(dim=(0, 2)) <= 0).float().mean())
            print(f"block {i}: {100 * dead:.0f} % of channels dead")
            if i == 1:
                z = _max_pool_same(z, 8)
        inputs = _max_pool_same(trained.conv1(x), 8)
        output = trained.convs[0](inputs)
        dead_channels = output.amax(dim=(0, 2)) <= 0
        print(f"block 2 inputs: mean {float(inputs.mean()):.3f}, all >= 0")
        for label, net in (("initialisation", initial), ("last pass", trained)):
            block = net.convs[0]
            sums = (block.conv.weight * block.norm.weight[:, None, None]).sum(dim=(1, 2))
            dead_sum, living_sum = (
                float(sums[dead_channels].mean()),
                float(sums[~dead_channels].mean()),
            )
            print(
                f"block 2 kernel sums at {label}: dead channels {dead_sum:+.2f}, "
                f"living {living_sum:+.2f}; "
                f"shift {float(block.norm.bias.mean()):+.4f}, "
                f"mean |weight| {float(block.conv.weight.abs().mean()):.4f}"
            )


if __name__ == "__main__":
    main()
