"""TinySleepNet: automatic sleep staging from one raw EEG channel.

The main entry points, also reachable from their modules:

>>> from tinysleepnet import Config, TinySleepNet, prepare, train, cross_validate, evaluate_run
>>> from tinysleepnet import stage, Stager, simulate_night, simulate_cohort
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, preset
from .data.nights import Night, load_nights
from .data.prepare import prepare
from .data.simulate import simulate_cohort, simulate_night
from .evaluation.cv import cross_validate
from .evaluation.report import evaluate_run
from .model import TinySleepNet
from .prediction.online import Stager
from .prediction.stage import StagingResult, stage
from .training.checkpoint import load_model
from .training.loop import train

__all__ = [
    "Config",
    "Night",
    "Stager",
    "StagingResult",
    "TinySleepNet",
    "__version__",
    "cross_validate",
    "evaluate_run",
    "load_model",
    "load_nights",
    "prepare",
    "preset",
    "simulate_cohort",
    "simulate_night",
    "stage",
    "train",
]
