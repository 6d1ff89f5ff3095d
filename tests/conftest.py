"""Settings shared by the whole suite."""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # no display on CI machines


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One torch thread for the whole suite.

    The networks in the tests are small, so a second thread buys little, while on a shared
    2-core machine two spinning threads can stall a step for seconds; one thread also makes
    results bit-exact from run to run (resume tests compare weights exactly).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
