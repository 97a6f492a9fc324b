"""A Redis Cluster of three masters: snapshots written, answers equal to the cluster's values.

The queue and the leader lock live on a standalone Redis (rq cannot run on a cluster); the key
prefix carries a hash tag so that a snapshot stays in one slot.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from redis.cluster import ClusterNode, RedisCluster

from telemetry_common.keys import Keys
from telemetry_stack.servers.cluster import LocalCluster
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port, matching, wait_for
from tests.helpers.processes import generator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PREFIX = "{telemetry}"
KEYS = Keys(PREFIX)


class ClusterStack:
    """A generator, a refresher and an API on the cluster, the queue on ``queue``."""

    def __init__(self, cluster: LocalCluster, queue: RedisServer) -> None:
        self.generator, source = generator(switches=25, tick="0.5")
        self.api_url = f"http://127.0.0.1:{free_port()}"
        env = {
            "TELEMETRY_REDIS_URL": cluster.url,
            "TELEMETRY_QUEUE_URL": queue.url,
            "TELEMETRY_KEY_PREFIX": PREFIX,
        }
        self.refresher = Service(
            ["refresher"],
            env={
                **env,
                "TELEMETRY_SOURCE_URL": source,
                "TELEMETRY_REFRESH_INTERVAL": "1",
                "TELEMETRY_REFRESHER_METRICS_BIND": "off",
            },
        )
        self.api = Service(["api", "--bind", self.api_url[7:], "--workers", "1"], env=env)
        self.api.wait_http(f"{self.api_url}/readyz", timeout=40)

    def stop(self) -> None:
        for service in (self.api, self.refresher, self.generator):
            service.stop()


@pytest.fixture
def stack(local_cluster: LocalCluster, private_redis: RedisServer) -> Iterator[ClusterStack]:
    started = ClusterStack(local_cluster, private_redis)
    yield started
    started.stop()


def test_answers_equal_the_cluster_values(stack: ClusterStack, local_cluster: LocalCluster) -> None:
    node = local_cluster.nodes[0]
    cluster = RedisCluster(startup_nodes=[ClusterNode(node.host, node.port)])
    get = lambda path: requests.get(stack.api_url + path, timeout=5)  # noqa: E731

    get_metric_matches = lambda: matching.get_metric_matches(cluster, KEYS, get)  # noqa: E731
    list_metrics_match = lambda: matching.list_metrics_match(  # noqa: E731
        cluster, KEYS, get, "CpuUsage,Latency", 25
    )

    first = int(get("/readyz").headers.get("X-Telemetry-Generation", "0") or 0)
    wait_for(get_metric_matches, timeout=15, message="GetMetric equal to the cluster")
    wait_for(list_metrics_match, timeout=15, message="ListMetrics equal to the cluster")
    later = lambda: int(cluster.get(KEYS.current) or 0) > max(first, 1)  # noqa: E731
    wait_for(later, timeout=15, message="snapshots written again")
    owner = cluster.get_node_from_key(KEYS.current)
    assert all(
        cluster.keyslot(k) == cluster.keyslot(KEYS.current)
        for k in cluster.scan_iter(match=f"{PREFIX}*", target_nodes=owner)
    )
    assert "Traceback" not in stack.api.output() + stack.refresher.output()
    cluster.close()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TELEMETRY_KEY_PREFIX": PREFIX},
            "TELEMETRY_QUEUE_URL is required when TELEMETRY_REDIS_URL is a Redis Cluster",
        ),
        (
            {"TELEMETRY_QUEUE_URL": "redis://127.0.0.1:1/0", "TELEMETRY_KEY_PREFIX": "telemetry"},
            "on a Redis Cluster the prefix needs a hash tag",
        ),
    ],
)
def test_refresher_refuses_a_cluster_it_cannot_run_on(env: dict[str, str], message: str) -> None:
    service = Service(
        ["refresher"], env={"TELEMETRY_REDIS_URL": "redis+cluster://127.0.0.1:1", **env}
    )
    assert service.process.wait(30) == 2
    assert message in service.output()
