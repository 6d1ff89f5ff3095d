"""TinySleepNet: automatic sleep staging from one raw EEG channel.

The main entry points, also reachable from their modules:

>>> from tinysleepnet import Config, TinySleepNet, prepare, train, cross_validate, evaluate_run
>>> from tinysleepnet import stage, Stager, simulate_night, simulate_cohort
"""

from __future__ import annotations

import lazy_loader

__version__ = "0.1.0"

# Each public name is imported from its home, listed in __init__.pyi, on first use, so that
# importing a light module (``tinysleepnet.config``, ``tinysleepnet.stages``) does not pay
# for torch, MNE and matplotlib.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
__all__ += ["__version__"]
