"""TinySleepNet: automatic sleep staging from one raw EEG channel."""

from __future__ import annotations

__version__ = "0.1.0"
