"""A local Redis Cluster of three masters on loopback ports, no replicas.

Each node is a ``redis-server`` from PATH in cluster mode with its own directory. The cluster
is assembled here with ``CLUSTER ADDSLOTSRANGE`` and ``CLUSTER MEET``, the same steps
``redis-cli --cluster create`` takes, so ``redis-cli`` is not needed.
"""

from __future__ import annotations

import logging
import time

import redis

from telemetry_stack.servers.redis_server import RedisServerError, free_port
from telemetry_stack.servers.sentinel_set import NodeServer

logger = logging.getLogger(__name__)

SLOTS = 16384
NODE_TIMEOUT_MS = 1000


class LocalCluster:
    """Three cluster-mode servers sharing the 16,384 slots; ``close()`` stops them."""

    def __init__(self, masters: int = 3) -> None:
        extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        extra += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        # the bus port defaults to port + 10000, which a free port over 55535 cannot have
        self.bus_ports = [free_port() for _ in range(masters)]
        self.nodes = [NodeServer([*extra, "--cluster-port", str(bus)]) for bus in self.bus_ports]

    @property
    def url(self) -> str:
        """Return the ``redis+cluster://`` URL naming every node as a startup node."""
        return "redis+cluster://" + ",".join(f"{n.host}:{n.port}" for n in self.nodes)

    def start(self, timeout: float = 30.0) -> LocalCluster:
        """Start the nodes, share the slots, join them; wait for ``cluster_state:ok``."""
        try:
            for node in self.nodes:
                node.start()
            self._assemble()
            self._wait_ok(timeout)
        except BaseException:
            self.close()
            raise
        logger.info("cluster ready: %s", self.url)
        return self

    def _assemble(self) -> None:
        count = len(self.nodes)
        for index, node in enumerate(self.nodes):
            client = node.client()
            first, last = index * SLOTS // count, (index + 1) * SLOTS // count - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)  # type: ignore[no-untyped-call]
            client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)  # type: ignore[no-untyped-call]
        seed = self.nodes[0].client()
        for node, bus in zip(self.nodes[1:], self.bus_ports[1:], strict=True):
            seed.execute_command("CLUSTER", "MEET", node.host, node.port, bus)  # type: ignore[no-untyped-call]

    def _wait_ok(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                states = [n.client().cluster("INFO")["cluster_state"] for n in self.nodes]
                if all(state == "ok" for state in states):
                    return
            except redis.RedisError:
                pass
            time.sleep(0.1)
        raise RedisServerError(f"the cluster was not ready within {timeout:g} s")

    def close(self) -> None:
        """Stop every node and remove their directories."""
        for node in self.nodes:
            node.close()
