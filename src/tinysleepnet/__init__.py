"""TinySleepNet: automatic sleep staging from one raw EEG channel.

The main entry points, also reachable from their modules:

>>> from tinysleepnet import Config, TinySleepNet, prepare, train, cross_validate, evaluate_run
>>> from tinysleepnet import stage, Stager, simulate_night, simulate_cohort
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # ``X as X``: an explicit re-export
    from .config import Config as Config
    from .config import preset as preset
    from .core.checkpoint import load_model as load_model
    from .data.nights import Night as Night
    from .data.nights import load_nights as load_nights
    from .data.prepare import prepare as prepare
    from .data.simulate import simulate_cohort as simulate_cohort
    from .data.simulate import simulate_night as simulate_night
    from .evaluation.cv import cross_validate as cross_validate
    from .evaluation.report import evaluate_run as evaluate_run
    from .model import TinySleepNet as TinySleepNet
    from .prediction.online import Stager as Stager
    from .prediction.stage import StagingResult as StagingResult
    from .prediction.stage import stage as stage
    from .training.loop import train as train

__version__ = "0.1.0"

# Where each public name lives. They are imported on first use (PEP 562), so that
# importing a light module (``tinysleepnet.config``, ``tinysleepnet.stages``) does not pay
# for torch, MNE and matplotlib. Type checkers read the imports below instead.
_HOMES = {
    "Config": "config",
    "preset": "config",
    "Night": "data.nights",
    "load_nights": "data.nights",
    "prepare": "data.prepare",
    "simulate_cohort": "data.simulate",
    "simulate_night": "data.simulate",
    "cross_validate": "evaluation.cv",
    "evaluate_run": "evaluation.report",
    "TinySleepNet": "model",
    "Stager": "prediction.online",
    "StagingResult": "prediction.stage",
    "stage": "prediction.stage",
    "load_model": "core.checkpoint",
    "train": "training.loop",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = ["__version__", *_HOMES]
