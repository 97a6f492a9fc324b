"""Send the snapshot's reads and writes straight to the cluster node that owns its hash slot.

Every key of the layout shares one hash tag (``{telemetry}:...``), so one node holds them all,
and the scripts that resolve the pointer may read the generation's keys. The writer's batches
and the reader's scripts and pipelines go to that node's plain client, whose pool redis-py
keeps: the same code as on a standalone server. A reply saying the slot moved (MOVED, ASK,
CLUSTERDOWN) or a dead node makes the client read the slot map again before the error goes up.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.cluster import RedisCluster
from redis.exceptions import AskError, ClusterDownError, TryAgainError  # MovedError: an AskError

from telemetry_common.keys import Keys

logger = logging.getLogger(__name__)

T = TypeVar("T")
MOVED = ("MOVED", "ASK", "CLUSTERDOWN", "TRYAGAIN")  # as a node client reports them


def slot_node(client: Any, keys: Keys) -> redis.Redis:
    """Return the client to send the snapshot's commands to: on a cluster, the slot's node."""
    if not isinstance(client, RedisCluster):
        return client  # type: ignore[no-any-return,unused-ignore]
    node = client.get_node_from_key(keys.current)  # type: ignore[no-untyped-call,unused-ignore]
    if node is None or node.redis_connection is None:
        raise redis.ConnectionError(f"no cluster node serves the slot of {keys.current}")
    connection: redis.Redis = node.redis_connection
    return connection


def routed(client: Any, call: Callable[[], T]) -> T:
    """Run ``call``; on a cluster, re-read the slot map when it fails because the slot moved."""
    if not isinstance(client, RedisCluster):
        return call()
    try:
        return call()
    except redis.RedisError as exc:
        stale = isinstance(exc, redis.ConnectionError | redis.TimeoutError | AskError)
        if stale or isinstance(exc, ClusterDownError | TryAgainError) or str(exc).startswith(MOVED):
            logger.info("cluster node answered %r: reading the slot map again", exc)
            with contextlib.suppress(Exception):  # the next call tries again anyway
                client.nodes_manager.initialize()
        raise
