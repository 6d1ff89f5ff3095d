"""``tinysleepnet models``: list the installed models, install one, choose the default."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..models.store import HOME_ENV


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list installed models; install one (models install MODEL_DIR)",
        description=(
            "Without an action, list the installed models. Models live in "
            f"${HOME_ENV}/models when that variable is set, else in the user data folder."
        ),
    )
    parser.set_defaults(func=list_models)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    install = actions.add_parser(
        "install", help="copy a released model folder into the installed models"
    )
    install.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    install.add_argument(
        "--default",
        action="store_true",
        help="make it the model predict and stage() use when none is given "
        "(the first model installed becomes the default anyway)",
    )
    install.set_defaults(func=install_one)
    default = actions.add_parser("default", help="make an installed model the default")
    default.add_argument("name")
    default.set_defaults(func=choose_default)


def list_models(args: argparse.Namespace) -> int:
    from ..models.store import installed_models, models_dir

    models = installed_models()
    if not models:
        print(f"no models installed in {models_dir()}")
        print("release one: tinysleepnet release DATA --out MODEL_DIR")
        print("install it:  tinysleepnet models install MODEL_DIR --default")
        return 0
    for card in models:
        cv = card.get("cross_validation")
        scored = (
            f"CV MF1 {100 * cv['mf1']:.1f} kappa {cv['kappa']:.2f}" if cv else "not cross-validated"
        )
        data = card["data"]
        print(
            f"{'*' if card['default'] else ' '} {card['name']:<24} {data['n_nights']} nights, "
            f"{', '.join(data['channels'])}, {scored}, T {card['temperature']:.2f}"
        )
    print(f"(* default; folder {models_dir()})")
    return 0


def install_one(args: argparse.Namespace) -> int:
    from ..models.store import install_model

    target = install_model(args.model_dir, default=args.default)
    print(f"installed {target.name} into {target}")
    return 0


def choose_default(args: argparse.Namespace) -> int:
    from ..models.store import set_default_model

    set_default_model(args.name)
    print(f"default model: {args.name}")
    return 0
