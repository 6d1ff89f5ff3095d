"""LSTM cell-state drift: how far a trained network's recurrent state wanders over a night.

Usage::

    python benchmarks/lstm_drift.py RUN/best.pt PREPARED [--night SC4001E0]

Stages one prepared night with the checkpoint, carrying the state through the whole night
as prediction does, and prints the mean absolute cell state every 100 epochs, the spread of
the gates' input pre-activations, and the fraction of saturated LSTM outputs. A state that
grows steadily through the night (tens to hundreds) marks a network whose units have
saturated: their gradients vanish and training stalls at one stage
(see ``benchmarks/README.md``, "Time to accuracy").
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from tinysleepnet.data.nights import load_nights
from tinysleepnet.nn.checkpoint import load_model

#: Epochs between two readings of the cell state.
STRIDE = 100


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("prepared", type=Path, help="folder written by tinysleepnet prepare")
    parser.add_argument("--night", help="night name (default: the first)")
    args = parser.parse_args()
    model = load_model(args.checkpoint, device="cpu")
    if not isinstance(model.lstm, torch.nn.LSTM):
        parser.error("the checkpoint uses the peephole LSTM; this script reads nn.LSTM")
    nights = load_nights(args.prepared)
    night = next(n for n in nights if args.night in (None, n.name))
    features = model.epoch_features(torch.as_tensor(night.signal_uv)[None])
    weight_ih, _, bias_ih, bias_hh = model.lstm.all_weights[0]
    preact = (features[0] @ weight_ih.T + bias_ih + bias_hh).reshape(len(night.stages), 4, -1)
    state, cells, outputs = None, [], []
    for first in range(0, features.shape[1], STRIDE):
        out, state = model.lstm(features[:, first : first + STRIDE], state)
        cells.append(state[1].abs().mean().item())
        outputs.append(out)
    saturated = (torch.cat(outputs, 1).abs() > 0.95).float().mean().item()
    spread = preact.transpose(0, 1).reshape(4, -1).std(dim=1).tolist()
    print(f"{night.name}: {len(night.stages)} epochs; {args.checkpoint}")
    print(f"mean |c| every {STRIDE} epochs: " + " ".join(f"{c:.1f}" for c in cells))
    print("input pre-activation std, gates i f g o: " + " ".join(f"{v:.2f}" for v in spread))
    print(f"LSTM outputs with |h| > 0.95: {100 * saturated:.0f} %")


if __name__ == "__main__":
    main()
