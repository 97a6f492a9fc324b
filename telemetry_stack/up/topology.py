"""``telemetry up --redis sentinel|cluster``: a local Redis topology to watch failover by hand.

``sentinel`` starts a primary, a replica and three sentinels; the services write through
Sentinel and the API reads from the replica. ``cluster`` starts three cluster masters and a
standalone server for the RQ queue and the leader lock (rq cannot run on a cluster); keys get
the ``{telemetry}`` hash tag. Every process is a ``redis-server`` from PATH, stopped on exit.
"""

from __future__ import annotations

import logging

from telemetry_stack.servers.cluster import LocalCluster
from telemetry_stack.servers.redis_server import RedisServer
from telemetry_stack.servers.sentinel_set import SERVICE, SentinelSet

logger = logging.getLogger(__name__)

TOPOLOGIES = ("standalone", "sentinel", "cluster")


class LocalTopology:
    """Start a Sentinel set or a cluster; ``env()`` says how the services reach it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sentinels: SentinelSet | None = None
        self.cluster: LocalCluster | None = None
        self.queue: RedisServer | None = None

    def start(self) -> dict[str, str]:
        """Start the servers; return the TELEMETRY_* variables that point the services at them."""
        if self.kind == "sentinel":
            self.sentinels = found = SentinelSet().start()
            first = found.sentinels[0]
            logger.info(
                "Sentinel set: primary %s, replica %s, sentinels %s; to fail over by hand: "
                "redis-cli -p %s SENTINEL FAILOVER %s (or kill the primary's pid %s)",
                found.primary.port,
                found.replica.port,
                ", ".join(str(s.port) for s in found.sentinels),
                first.port,
                SERVICE,
                found.primary.process.pid if found.primary.process else "?",
            )
            return {
                "TELEMETRY_REDIS_URL": found.url(),
                "TELEMETRY_REDIS_READ_URL": found.url(role="replica"),
            }
        self.cluster = LocalCluster().start()
        self.queue = RedisServer().start()
        logger.info(
            "cluster of 3 masters on ports %s; queue and leader lock on %s",
            ", ".join(str(node.port) for node in self.cluster.nodes),
            self.queue.url,
        )
        return {
            "TELEMETRY_REDIS_URL": self.cluster.url,
            "TELEMETRY_QUEUE_URL": self.queue.url,
            "TELEMETRY_KEY_PREFIX": "{telemetry}",
        }

    def close(self) -> None:
        """Stop every server started here."""
        for part in (self.sentinels, self.cluster, self.queue):
            if part is not None:
                part.close()
