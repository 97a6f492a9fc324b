"""Build Redis clients whose timeouts and retries are chosen, not inherited.

One function turns every accepted URL (see redis_urls.py) into a client: a plain server, the
primary or a replica that Sentinel names, or a Redis Cluster. A Sentinel-managed client asks
the sentinels again whenever its connection is reset, and redis-py resets it on a READONLY
reply (a demoted primary), so a failover is followed without a restart.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, cast

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool
from redis.utils import str_if_bytes

from telemetry_common.redis_urls import RedisTarget, parse
from telemetry_common.redis_urls import redacted as redacted

__all__ = ["ReplicaPool", "connect", "connect_target", "follow_primary", "is_cluster", "redacted"]


class InSyncSentinel(Sentinel):
    """Sentinel that names only replicas in sync with their primary as read targets.

    Right after a failover the sentinels list the old primary as a replica before it is
    demoted (8 s or more): it serves a frozen, older snapshot meanwhile, so reading from it
    would take clients back in time. A replica whose link is not ``ok`` is skipped; with none
    left, reads go to the primary.
    """

    def filter_slaves(self, slaves: list[dict[str, Any]]) -> list[tuple[str, int]]:
        """Return the address of each replica that is up and linked to its primary."""
        linked = [s for s in slaves if str_if_bytes(s.get("master-link-status", "")) == "ok"]
        alive: list[tuple[str, int]] = super().filter_slaves(linked)  # type: ignore[no-untyped-call,unused-ignore]
        return alive


class ReplicaPool(SentinelConnectionPool):
    """A pool of connections to the replicas Sentinel names, that moves off the primary.

    With no replica in sync, redis-py connects a replica client to the primary, and the
    connection stays there for its life, even once a replica is linked. Here each connection
    handed out is checked against the replicas the sentinels list (asked again at most every
    RECHECK seconds): one connected elsewhere while a replica is listed is connected anew,
    through Sentinel, to a replica.
    """

    RECHECK = 5.0

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call,unused-ignore]
        self.replicas: list[tuple[str, int]] = []
        self.checked_at = -self.RECHECK

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        """Return a pooled connection, reconnected if a replica is listed and it is elsewhere."""
        connection = super().get_connection(*args, **kwargs)
        now = time.monotonic()
        if now - self.checked_at >= self.RECHECK:
            self.checked_at = now
            with contextlib.suppress(redis.RedisError):
                self.replicas = self.sentinel_manager.discover_slaves(self.service_name)
        if self.replicas and (connection.host, connection.port) not in self.replicas:
            connection.disconnect()  # type: ignore[no-untyped-call,unused-ignore]
            with contextlib.suppress(redis.RedisError):  # else the command connects as it can
                connection.connect()  # type: ignore[no-untyped-call,unused-ignore]  # through Sentinel
        return connection


def connect(url: str, *, timeout: float = 0.5, retries: int = 1) -> redis.Redis:
    """Return a client for ``url`` that gives up after about ``timeout`` seconds per attempt.

    redis-py 8 retries ten times with backoff by default (about 4.5 s against a dead server);
    a service that must answer fast sets the budget here instead.
    """
    return connect_target(parse(url), timeout=timeout, retries=retries)


def connect_target(target: RedisTarget, *, timeout: float, retries: int) -> redis.Redis:
    """Return a client for a parsed URL (see ``connect``)."""
    budget: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries),
    }
    if target.kind == "standalone":
        return redis.Redis.from_url(target.url, health_check_interval=30, **budget)
    options = {**target.options, **budget}
    if target.kind == "cluster":
        nodes = [ClusterNode(host, port) for host, port in target.hosts]  # type: ignore[no-untyped-call,unused-ignore]
        try:  # RedisCluster reads the slot map at once
            cluster = RedisCluster(startup_nodes=nodes, **options)
        except RedisClusterException as exc:  # not a RedisError: callers handle those
            raise redis.ConnectionError(str(exc)) from exc
        # RedisCluster offers every command the callers use, routed by key slot.
        return cast(redis.Redis, cluster)
    sentinel_kwargs: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        **target.sentinel_auth,
    }
    if options.get("ssl"):  # the sentinels speak TLS too, with the same certificates
        sentinel_kwargs |= {name: value for name, value in options.items() if "ssl" in name}
    sentinel = InSyncSentinel(list(target.hosts), sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call,unused-ignore]
    if target.role == "replica":  # a replica the sentinels name; the primary if none is up
        replica: redis.Redis = sentinel.slave_for(  # type: ignore[no-untyped-call,unused-ignore]
            target.service, connection_pool_class=ReplicaPool, **options
        )
        return replica
    primary: redis.Redis = sentinel.master_for(target.service, **options)  # type: ignore[no-untyped-call,unused-ignore]
    return primary


def follow_primary(client: object) -> None:
    """Ask the sentinels which node is primary now; drop idle connections to a former one.

    After a planned failover the old primary keeps accepting writes until Sentinel demotes
    it (8 s or more later): without this check, a writer connected to it writes data that the
    demotion discards. A standalone or cluster client is left alone; so is a sentinel error
    (the write itself then fails or succeeds on its own).
    """
    pool = getattr(client, "connection_pool", None)
    if isinstance(pool, SentinelConnectionPool) and pool.is_master:
        with contextlib.suppress(redis.RedisError, MasterNotFoundError):
            pool.get_master_address()  # type: ignore[no-untyped-call,unused-ignore]  # resets on a change


def is_cluster(client: object) -> bool:
    """Return whether ``client`` talks to a Redis Cluster."""
    return isinstance(client, RedisCluster)
