"""The refresher's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telemetry_common.options import KEY_PREFIX, REDIS_URL, Setting
from telemetry_common.settings import ConfigError, bind, number, url, whole

METRICS_OFF = ("0", "off")


def metrics_bind(name: str, value: str) -> tuple[str, int] | None:
    """Return where to serve the metrics, or None when ``0`` or ``off`` disables them."""
    return None if value.lower() in METRICS_OFF else bind(name, value)


SOURCE_URL = Setting(
    "--source-url", "TELEMETRY_SOURCE_URL", "http://127.0.0.1:9001/counters",
    "URL of the generator's CSV table", url("an http:// or https:// URL", "http://", "https://"),
)  # fmt: skip
REFRESH_INTERVAL = Setting(
    "--interval", "TELEMETRY_REFRESH_INTERVAL", "5", "seconds between refreshes",
    number(above=True),
)  # fmt: skip
TTL = Setting(
    "--ttl", "TELEMETRY_TTL", "10", "seconds a snapshot lives, greater than the interval",
    whole(1),
)  # fmt: skip
FETCH_TIMEOUT = Setting(
    "--fetch-timeout", "TELEMETRY_FETCH_TIMEOUT", "3", "seconds allowed per fetch",
    number(above=True), shown="min(3, 0.6 x interval)",
)  # fmt: skip
MAX_BODY_BYTES = Setting(
    "--max-body-bytes", "TELEMETRY_MAX_BODY_BYTES", "67108864", "largest CSV body accepted",
    whole(1), shown="67108864 (64 MiB)",
)  # fmt: skip
LEADER_TTL = Setting(
    "--leader-ttl", "TELEMETRY_LEADER_TTL", "2", "seconds the leader lock lives unless renewed",
    number(0.2),
)  # fmt: skip
METRICS_BIND = Setting(
    "--metrics-bind", "TELEMETRY_REFRESHER_METRICS_BIND", "127.0.0.1:9102",
    "HOST:PORT of the Prometheus /metrics endpoint; 0 or off disables it", metrics_bind,
)  # fmt: skip

SETTINGS: tuple[Setting[Any], ...] = (
    SOURCE_URL, REDIS_URL, KEY_PREFIX, REFRESH_INTERVAL, TTL, FETCH_TIMEOUT, MAX_BODY_BYTES,
    LEADER_TTL, METRICS_BIND,
)  # fmt: skip


@dataclass(frozen=True)
class RefresherSettings:
    """Resolved settings of one refresher process."""

    source_url: str = SOURCE_URL.value
    redis_url: str = REDIS_URL.value
    key_prefix: str = KEY_PREFIX.value
    interval: float = REFRESH_INTERVAL.value
    ttl: int = TTL.value
    fetch_timeout: float = FETCH_TIMEOUT.value
    max_body_bytes: int = MAX_BODY_BYTES.value
    leader_ttl: float = LEADER_TTL.value
    metrics_address: tuple[str, int] | None = METRICS_BIND.value

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
        return cls(
            source_url=SOURCE_URL.read(env),
            redis_url=REDIS_URL.read(env),
            key_prefix=KEY_PREFIX.read(env),
            interval=interval,
            ttl=ttl,
            fetch_timeout=fetch_timeout,
            max_body_bytes=MAX_BODY_BYTES.read(env),
            leader_ttl=LEADER_TTL.read(env),
            metrics_address=METRICS_BIND.read(env),
        )
