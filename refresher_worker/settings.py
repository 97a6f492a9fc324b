"""The refresher's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telemetry_common.options import Setting
from telemetry_common.redis_settings import check_cluster_prefix, queue_url_for
from telemetry_common.settings import ConfigError
from telemetry_common.variables import (
    FETCH_TIMEOUT,
    KEY_PREFIX,
    LEADER_TTL,
    MAX_BODY_BYTES,
    METRICS_TOKEN,
    QUEUE_URL,
    REDIS_URL,
    REFRESH_INTERVAL,
    SOURCE_URL,
    TTL,
)
from telemetry_common.variables import REFRESHER_METRICS_BIND as METRICS_BIND

SETTINGS: tuple[Setting[Any], ...] = (
    SOURCE_URL, REDIS_URL, QUEUE_URL, KEY_PREFIX, REFRESH_INTERVAL, TTL, FETCH_TIMEOUT,
    MAX_BODY_BYTES, LEADER_TTL, METRICS_BIND, METRICS_TOKEN,
)  # fmt: skip


@dataclass(frozen=True)
class RefresherSettings:
    """Resolved settings of one refresher process."""

    source_url: str = SOURCE_URL.value
    redis_url: str = REDIS_URL.value
    queue_url: str | None = None  # None: redis_url
    key_prefix: str = KEY_PREFIX.value
    interval: float = REFRESH_INTERVAL.value
    ttl: int = TTL.value
    fetch_timeout: float = FETCH_TIMEOUT.value
    max_body_bytes: int = MAX_BODY_BYTES.value
    leader_ttl: float = LEADER_TTL.value
    metrics_address: tuple[str, int] | None = METRICS_BIND.value
    metrics_token: str = field(default=METRICS_TOKEN.value, repr=False)

    @property
    def renew_every(self) -> float:
        """Return how often the leader lock is renewed and the heartbeat written."""
        return self.leader_ttl / 4

    @property
    def job_timeout(self) -> int:
        """Return the RQ timeout of one refresh job: a refresh older than the TTL is useless."""
        return max(1, self.ttl)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RefresherSettings:
        """Read every setting from ``env``; raise ConfigError naming a bad variable and value."""
        interval = REFRESH_INTERVAL.read(env)
        ttl = TTL.read(env)
        if ttl <= interval:
            raise ConfigError(
                f"{TTL.variable}={ttl}: must be greater than {REFRESH_INTERVAL.variable} "
                f"({interval:g}), or the snapshot expires between refreshes"
            )
        fetch_timeout = FETCH_TIMEOUT.read(env, min(FETCH_TIMEOUT.value, interval * 0.6))
        if fetch_timeout >= interval:
            raise ConfigError(
                f"{FETCH_TIMEOUT.variable}={fetch_timeout:g}: must be shorter than "
                f"{REFRESH_INTERVAL.variable} ({interval:g})"
            )
        redis_url, key_prefix = REDIS_URL.read(env), KEY_PREFIX.read(env)
        check_cluster_prefix(redis_url, key_prefix)
        queue_url = queue_url_for(QUEUE_URL.variable, QUEUE_URL.read(env), redis_url)
        return cls(
            source_url=SOURCE_URL.read(env),
            redis_url=redis_url,
            queue_url=None if queue_url == redis_url else queue_url,
            key_prefix=key_prefix,
            interval=interval,
            ttl=ttl,
            fetch_timeout=fetch_timeout,
            max_body_bytes=MAX_BODY_BYTES.read(env),
            leader_ttl=LEADER_TTL.read(env),
            metrics_address=METRICS_BIND.read(env),
            metrics_token=METRICS_TOKEN.read(env),
        )
