"""The training tests' tiny settings and nights serve the network tests too."""

from ..training.conftest import tiny_config, toy_nights  # noqa: F401
