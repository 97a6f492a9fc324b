"""A local Sentinel set: one primary, one replica and three sentinels on loopback ports.

Each process is a ``redis-server`` from PATH (Sentinel is ``redis-server <conf> --sentinel``)
with its own scratch directory, nothing persisted. The sentinels call a primary down after one
second without an answer, so a failover completes within a few seconds: fast enough to watch
by hand with ``telemetry up --redis sentinel`` and for the tests.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import redis

from telemetry_stack.servers.redis_server import RedisServer, RedisServerError

logger = logging.getLogger(__name__)

SERVICE = "mymaster"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


class NodeServer(RedisServer):
    """A redis-server with extra command-line arguments (``--replicaof``, cluster mode...)."""

    def __init__(self, extra: list[str] | None = None) -> None:
        super().__init__(extra=tuple(extra or ()))

    def client(self, timeout: float = 2.0) -> redis.Redis:
        """Return a plain client of this one process."""
        return redis.Redis(self.host, self.port, socket_timeout=timeout)


class SentinelServer(NodeServer):
    """One sentinel watching ``SERVICE`` at the primary's port; its config file is its own."""

    def __init__(self, primary_port: int) -> None:
        super().__init__()
        self.conf = Path(self._dir) / "sentinel.conf"
        self.conf.write_text(
            f"port {self.port}\nbind {self.host}\ndir {self._dir}\n"
            f"logfile {Path(self._dir) / 'server.log'}\n"
            f"sentinel monitor {SERVICE} {self.host} {primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )

    def command(self) -> list[str]:
        """Return ``redis-server <conf> --sentinel``."""
        return [self.binary, str(self.conf), "--sentinel"]


class SentinelSet:
    """A primary, a replica and three sentinels; ``close()`` stops all of them."""

    def __init__(self) -> None:
        self.primary = NodeServer()
        self.replica = NodeServer(["--replicaof", self.primary.host, str(self.primary.port)])
        self.sentinels = [SentinelServer(self.primary.port) for _ in range(3)]

    @property
    def nodes(self) -> list[NodeServer]:
        """Return the two data nodes, in start order."""
        return [self.primary, self.replica]

    def url(self, db: int = 0, *, role: str = "primary") -> str:
        """Return the ``redis+sentinel://`` URL of the service (``role=replica`` for reads)."""
        hosts = ",".join(f"{s.host}:{s.port}" for s in self.sentinels)
        query = "?role=replica" if role == "replica" else ""
        return f"redis+sentinel://{hosts}/{SERVICE}/{db}{query}"

    def start(self, timeout: float = 30.0) -> SentinelSet:
        """Start every process and wait until the sentinels see the replica and each other."""
        try:
            for server in [*self.nodes, *self.sentinels]:
                server.start()
            self.wait_ready(timeout)
        except BaseException:
            self.close()
            raise
        logger.info("sentinel set ready: %s", self.url())
        return self

    def wait_ready(self, timeout: float) -> None:
        """Wait until the replica is in sync and every sentinel knows the replica and the others."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready():
                return
            time.sleep(0.1)
        raise RedisServerError(f"the sentinel set was not ready within {timeout:g} s")

    def _ready(self) -> bool:
        try:
            link = self.replica.client().info("replication").get("master_link_status")
            if link != "up":
                return False
            for sentinel in self.sentinels:
                client = sentinel.client()
                replicas = client.execute_command("SENTINEL", "REPLICAS", SERVICE)  # type: ignore[no-untyped-call]
                others = client.execute_command("SENTINEL", "SENTINELS", SERVICE)  # type: ignore[no-untyped-call]
                if len(replicas) < 1 or len(others) < 2:
                    return False
        except redis.RedisError:
            return False
        return True

    def primary_port(self) -> int:
        """Return the port of the primary the sentinels name now."""
        for sentinel in self.sentinels:
            try:
                _host, port = sentinel.client().execute_command(  # type: ignore[no-untyped-call]
                    "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE
                )
                return int(port)
            except (redis.RedisError, ValueError, TypeError):
                continue
        raise RedisServerError("no sentinel answered")

    def node(self, port: int) -> NodeServer:
        """Return the data node on ``port``."""
        return next(node for node in self.nodes if node.port == port)

    def close(self) -> None:
        """Stop every process and remove their scratch directories."""
        for server in [*self.sentinels, *self.nodes]:
            server.close()
