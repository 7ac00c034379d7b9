"""One local Ray cluster for the farm's tests, in this process (ray.init), with CPU slots only; its actors see the
tests' studio home (toyworld is built in) and run torch on one thread each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ray
from farm_session import Farm, start_farm

CLUSTER_CPUS = 5  # the shared farm's two actors, and three more for a test that kills its own


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("farm-home")
    ray.init(num_cpus=CLUSTER_CPUS, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"ISTAR_HOME": str(home), "OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def farm(cluster, tmp_path_factory: pytest.TempPathFactory) -> Farm:
    """A farm of two engine actors, shared by the module's tests."""
    return start_farm(tmp_path_factory.mktemp("farm"), 2)
