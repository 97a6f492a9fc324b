"""Local Redis topologies for the integration tests: a Sentinel set and a 3-master cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from telemetry_stack.servers.cluster import LocalCluster
from telemetry_stack.servers.sentinel_set import SentinelSet


@pytest.fixture
def sentinel_set() -> Iterator[SentinelSet]:
    """Return a started primary, replica and three sentinels on loopback ports."""
    started = SentinelSet().start()
    yield started
    started.close()


@pytest.fixture
def local_cluster() -> Iterator[LocalCluster]:
    """Return a started 3-master Redis Cluster on loopback ports."""
    started = LocalCluster().start()
    yield started
    started.close()
