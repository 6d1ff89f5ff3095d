"""The training tests' tiny settings and nights serve the core tests too."""

from ..training.conftest import tiny_config, toy_nights  # noqa: F401
