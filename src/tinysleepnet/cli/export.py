"""``tinysleepnet export``: write a trained checkpoint as an ONNX graph."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a trained model to ONNX",
        description=(
            "Write a checkpoint's network as an ONNX graph: inputs x (nights, epochs, samples), "
            "h0 and c0 (the LSTM state), outputs logits, hn and cn. Run it with "
            "ONNX Runtime (tinysleepnet.nn.onnx_backend.OnnxModel)."
        ),
    )
    parser.add_argument("out", type=Path, help="output file (.onnx)")
    parser.add_argument(
        "--model",
        required=True,
        help="checkpoint (.pt), released model folder or installed model's name to export",
    )
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="output format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models.store import resolve_model
    from ..nn.checkpoint import load_model
    from ..nn.export import export_onnx

    model = load_model(resolve_model(args.model))  # a released model checked against its card
    path = export_onnx(model, args.out)
    print(f"wrote {path}")
    return 0
