"""Settings of the Redis topology: which URLs are accepted, where reads and the queue go.

Each function reads or checks one thing and raises ConfigError naming the variable; the
roles' settings call them (see docs/topologies.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from telemetry_common.redis_urls import UrlError, parse, redacted
from telemetry_common.settings import PREFIX, ConfigError


def checked_redis_url(name: str, value: str) -> str:
    """Return ``value`` if it is a Redis URL the system accepts (see redis_urls.py)."""
    try:
        parse(value)
    except UrlError as exc:
        raise ConfigError(f"{name}={redacted(value)!r}: {exc}") from None
    return value


def env_read_url(env: Mapping[str, str], write_url: str) -> str:
    """Return ``TELEMETRY_REDIS_READ_URL``, where the API reads; default: the write URL."""
    value = env.get(PREFIX + "REDIS_READ_URL", "").strip() or None
    return write_url if value is None else checked_redis_url(PREFIX + "REDIS_READ_URL", value)


def env_queue_url(env: Mapping[str, str], write_url: str) -> str:
    """Return ``TELEMETRY_QUEUE_URL`` (RQ queue, leader lock); default: a non-cluster write URL."""
    name = PREFIX + "QUEUE_URL"
    value = env.get(name, "").strip() or None
    if value is not None:
        if parse(checked_redis_url(name, value)).is_cluster:
            raise ConfigError(
                f"{name}: rq cannot run on a Redis Cluster: name a standalone or "
                "Sentinel Redis for the queue and the leader lock"
            )
        return value
    if parse(write_url).is_cluster:
        raise ConfigError(
            f"{name} is required when {PREFIX}REDIS_URL is a Redis Cluster: rq cannot run on a "
            "cluster (its worker registration spans hash slots); set it to a standalone or "
            "Sentinel Redis for the queue and the leader lock"
        )
    return write_url


def check_cluster_prefix(url: str, prefix: str) -> None:
    """Refuse a key prefix without a hash tag on a cluster: a snapshot must stay in one slot."""
    start = prefix.find("{")
    end = prefix.find("}", start + 1)
    tagged = start >= 0 and end > start + 1  # Redis hashes the first non-empty {...} only
    if parse(url).is_cluster and not tagged:
        raise ConfigError(
            f"{PREFIX}KEY_PREFIX={prefix!r}: on a Redis Cluster the prefix needs a hash tag so "
            f"that a snapshot stays in one slot: use {{{prefix}}}"
        )
