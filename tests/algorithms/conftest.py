"""Shared fixtures of the algorithm tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Small networks on 2 shared cores: more intra-op threads only spin against each other.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def pendulum_controller():
    """A linear controller that balances InvertedPendulum-v5 (tests/algorithms/pendulum_helpers)."""
    from tests.algorithms.pendulum_helpers import balancing_controller

    return balancing_controller()


@pytest.fixture(scope="session")
def pendulum_demos(tmp_path_factory, pendulum_controller):
    """4 perturbed demonstrations of that controller, with actions, in a Parquet file."""
    from tests.algorithms.pendulum_helpers import write_demos

    return write_demos(tmp_path_factory.mktemp("pendulum") / "demos.parquet", pendulum_controller)
