"""The refresher's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from telemetry_common.keys import DEFAULT_PREFIX
from telemetry_common.options import Setting
from telemetry_common.redis_settings import check_cluster_prefix, env_queue_url
from telemetry_common.settings import (
    DEFAULT_REDIS_URL,
    PREFIX,
    ConfigError,
    env_float,
    env_int,
    env_redis_url,
    env_str,
    parse_bind,
)

SOURCE_URL = PREFIX + "SOURCE_URL"
REDIS_URL = PREFIX + "REDIS_URL"
QUEUE_URL = PREFIX + "QUEUE_URL"
KEY_PREFIX = PREFIX + "KEY_PREFIX"
REFRESH_INTERVAL = PREFIX + "REFRESH_INTERVAL"
TTL = PREFIX + "TTL"
FETCH_TIMEOUT = PREFIX + "FETCH_TIMEOUT"
MAX_BODY_BYTES = PREFIX + "MAX_BODY_BYTES"
LEADER_TTL = PREFIX + "LEADER_TTL"
METRICS_BIND = PREFIX + "REFRESHER_METRICS_BIND"

DEFAULT_SOURCE_URL = "http://127.0.0.1:9001/counters"
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_METRICS_BIND = "127.0.0.1:9102"
METRICS_OFF = ("0", "off")


SETTINGS: tuple[Setting, ...] = (
    Setting("--source-url", SOURCE_URL, DEFAULT_SOURCE_URL, "URL of the generator's CSV table"),
    Setting("--redis-url", REDIS_URL, DEFAULT_REDIS_URL, "Redis to write to (else REDIS_URL)"),
    Setting("--queue-url", QUEUE_URL, "the Redis URL", "Redis of the RQ queue and leader lock"),
    Setting("--key-prefix", KEY_PREFIX, DEFAULT_PREFIX, "prefix of every Redis key"),
    Setting("--interval", REFRESH_INTERVAL, "5", "seconds between refreshes, greater than 0"),
    Setting("--ttl", TTL, "10", "seconds a snapshot lives, greater than the interval"),
    Setting(
        "--fetch-timeout", FETCH_TIMEOUT, "min(3, 0.6 x interval)", "seconds allowed per fetch"
    ),
    Setting("--max-body-bytes", MAX_BODY_BYTES, "67108864", "largest CSV body accepted"),
    Setting("--leader-ttl", LEADER_TTL, "2", "seconds the leader lock lives unless renewed"),
    Setting(
        "--metrics-bind",
        METRICS_BIND,
        DEFAULT_METRICS_BIND,
        "HOST:PORT of the Prometheus /metrics endpoint; 0 or off disables it",
    ),
)


@dataclass(frozen=True)
class RefresherSettings:
    """Resolved settings of one refresher process."""

    source_url: str = DEFAULT_SOURCE_URL
    redis_url: str = DEFAULT_REDIS_URL
    queue_url: str | None = None  # None: redis_url
    key_prefix: str = DEFAULT_PREFIX
    interval: float = 5.0
    ttl: int = 10
    fetch_timeout: float = 3.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    leader_ttl: float = 2.0
    metrics_address: tuple[str, int] | None = ("127.0.0.1", 9102)

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
        source_url = env_str(env, SOURCE_URL, DEFAULT_SOURCE_URL)
        if not source_url.startswith(("http://", "https://")):
            raise ConfigError(f"{SOURCE_URL}={source_url!r}: expected an http:// or https:// URL")
        interval = env_float(env, REFRESH_INTERVAL, 5.0, exclusive_minimum=True)
        ttl = env_int(env, TTL, 10, minimum=1)
        if ttl <= interval:
            raise ConfigError(
                f"{TTL}={ttl}: must be greater than {REFRESH_INTERVAL} ({interval:g}), "
                "or the snapshot expires between refreshes"
            )
        fetch_timeout = env_float(
            env, FETCH_TIMEOUT, min(3.0, interval * 0.6), exclusive_minimum=True
        )
        if fetch_timeout >= interval:
            raise ConfigError(
                f"{FETCH_TIMEOUT}={fetch_timeout:g}: must be shorter than "
                f"{REFRESH_INTERVAL} ({interval:g})"
            )
        redis_url, key_prefix = env_redis_url(env), env_str(env, KEY_PREFIX, DEFAULT_PREFIX)
        check_cluster_prefix(redis_url, key_prefix)
        return cls(
            source_url=source_url,
            redis_url=redis_url,
            queue_url=queue_url
            if (queue_url := env_queue_url(env, redis_url)) != redis_url
            else None,
            key_prefix=key_prefix,
            interval=interval,
            ttl=ttl,
            fetch_timeout=fetch_timeout,
            max_body_bytes=env_int(env, MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, minimum=1),
            leader_ttl=env_float(env, LEADER_TTL, 2.0, minimum=0.2),
            metrics_address=metrics_address(env),
        )


def metrics_address(env: Mapping[str, str]) -> tuple[str, int] | None:
    """Return where to serve the metrics, or None when ``0`` or ``off`` disables them."""
    value = env_str(env, METRICS_BIND, DEFAULT_METRICS_BIND)
    return None if value.lower() in METRICS_OFF else parse_bind(METRICS_BIND, value)
