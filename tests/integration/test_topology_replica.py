"""A plain replica as TELEMETRY_REDIS_READ_URL: every read lands on it, none on the primary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from telemetry_stack.servers.sentinel_set import NodeServer
from tests.helpers import Service, free_port, wait_for
from tests.helpers.processes import generator, refresher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

REQUESTS = 200


@pytest.fixture
def pair() -> Iterator[tuple[NodeServer, NodeServer]]:
    primary = NodeServer().start()
    replica = NodeServer(["--replicaof", primary.host, str(primary.port)]).start()
    try:
        link = lambda: replica.client().info("replication")["master_link_status"] == "up"  # noqa: E731
        wait_for(link, 20, message="the replica in sync")
        yield primary, replica
    finally:
        replica.close()
        primary.close()


def calls(node: NodeServer, command: str) -> int:
    """Return how many times ``node`` ran ``command`` since its stats were reset."""
    stats = node.client().info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def test_api_reads_land_on_the_replica(pair: tuple[NodeServer, NodeServer]) -> None:
    primary, replica = pair
    gen, source = generator(switches=20, tick="0.5")
    writer = refresher(
        primary.url, source, refresh_interval="1", ttl="60", refresher_metrics_bind="off"
    )
    bind = f"127.0.0.1:{free_port()}"
    env = {"TELEMETRY_REDIS_URL": primary.url, "TELEMETRY_REDIS_READ_URL": replica.url}
    api = Service(["api", "--bind", bind, "--workers", "1"], env=env)
    try:
        api.wait_http(f"http://{bind}/readyz", timeout=40)
        writer.stop()  # from here on, only the API talks to Redis (the snapshot lives 60 s)
        url = f"http://{bind}/telemetry/GetMetric?switch=3&metric=Latency"
        assert requests.get(url, timeout=5).status_code == 200  # loads the script on the replica
        for node in (primary, replica):
            node.client().config_resetstat()
        session = requests.Session()
        answers = [
            session.get(f"http://{bind}/telemetry/GetMetric?switch=3&metric=Latency", timeout=5)
            for _ in range(REQUESTS)
        ]
        assert [a.status_code for a in answers] == [200] * REQUESTS
        reads = ("evalsha", "get", "pttl", "hgetall", "hget")  # one read-only script per answer
        on_replica = {name: calls(replica, name) for name in reads}
        on_primary = {name: calls(primary, name) for name in reads}
        print(f"\nFIGURES commands: replica {on_replica}, primary {on_primary}")
        assert on_replica == dict.fromkeys(reads, REQUESTS)
        assert on_primary == dict.fromkeys(reads, 0)
    finally:
        for service in (api, writer, gen):
            service.stop()
