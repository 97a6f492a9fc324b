"""Settings of the Redis topology: which URLs are accepted, where reads and the queue go.

Each function reads or checks one thing and raises ConfigError naming the variable; the
roles' settings call them (see docs/topologies.md).
"""

from __future__ import annotations

from telemetry_common.redis_urls import UrlError, parse, redacted
from telemetry_common.settings import PREFIX, ConfigError


def checked_redis_url(name: str, value: str) -> str:
    """Return ``value`` if it is a Redis URL the system accepts (see redis_urls.py)."""
    try:
        parse(value)
    except UrlError as exc:
        raise ConfigError(f"{name}={redacted(value)!r}: {exc}") from None
    return value


def optional_redis_url(name: str, value: str) -> str | None:
    """Return ``value`` checked as a Redis URL, or None when it is empty (unset)."""
    return checked_redis_url(name, value) if value else None


def queue_redis_url(name: str, value: str) -> str | None:
    """Return the queue's Redis URL (None when unset); refuse a cluster, where rq cannot run."""
    url = optional_redis_url(name, value)
    if url is not None and parse(url).is_cluster:
        raise ConfigError(
            f"{name}: rq cannot run on a Redis Cluster: name a standalone or "
            "Sentinel Redis for the queue and the leader lock"
        )
    return url


def queue_url_for(name: str, given: str | None, write_url: str) -> str:
    """Return where the RQ queue and the leader lock live: ``given``, else the write URL."""
    if given is not None:
        return given
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
