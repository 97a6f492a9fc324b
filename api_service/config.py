"""The API's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telemetry_common.options import Setting
from telemetry_common.redis_client import redacted
from telemetry_common.redis_settings import check_cluster_prefix, queue_url_for
from telemetry_common.settings import host_port
from telemetry_common.variables import API_BIND as BIND
from telemetry_common.variables import API_PROXY_HOPS as PROXY_HOPS
from telemetry_common.variables import API_RETRY_AFTER as RETRY_AFTER
from telemetry_common.variables import API_THREADS as THREADS
from telemetry_common.variables import API_WORKERS as WORKERS
from telemetry_common.variables import (
    KEY_PREFIX,
    METRICS_TOKEN,
    QUEUE_URL,
    REDIS_READ_URL,
    REDIS_RETRIES,
    REDIS_TIMEOUT,
    REDIS_URL,
)


def _other(url: str, redis_url: str) -> str | None:
    return None if url == redis_url else url


def cores() -> int:
    """Return the number of cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux only
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


SETTINGS: tuple[Setting[Any], ...] = (
    BIND, WORKERS, THREADS, REDIS_URL, REDIS_READ_URL, QUEUE_URL, KEY_PREFIX, REDIS_TIMEOUT,
    REDIS_RETRIES, RETRY_AFTER, PROXY_HOPS, METRICS_TOKEN,
)  # fmt: skip


@dataclass(frozen=True)
class ApiConfig:
    """Resolved settings of the API."""

    host: str = BIND.value[0]
    port: int = BIND.value[1]
    workers: int = field(default_factory=cores)
    threads: int = THREADS.value
    redis_url: str = REDIS_URL.value
    read_url: str | None = None  # None: redis_url
    queue_url: str | None = None  # None: redis_url
    key_prefix: str = KEY_PREFIX.value
    redis_timeout: float = REDIS_TIMEOUT.value
    redis_retries: int = REDIS_RETRIES.value
    retry_after: int = RETRY_AFTER.value
    proxy_hops: int = PROXY_HOPS.value
    metrics_token: str = field(default=METRICS_TOKEN.value, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ApiConfig:
        """Read every setting from ``env``; raise ConfigError naming a bad variable and value."""
        host, port = BIND.read(env)
        redis_url, prefix = REDIS_URL.read(env), KEY_PREFIX.read(env)
        read_url = REDIS_READ_URL.read(env) or redis_url
        for url in (redis_url, read_url):
            check_cluster_prefix(url, prefix)
        queue_url = queue_url_for(QUEUE_URL.variable, QUEUE_URL.read(env), redis_url)
        return cls(
            host=host,
            port=port,
            workers=WORKERS.read(env, cores()),
            threads=THREADS.read(env),
            redis_url=redis_url,
            read_url=_other(read_url, redis_url),
            queue_url=_other(queue_url, redis_url),
            key_prefix=prefix,
            redis_timeout=REDIS_TIMEOUT.read(env),
            redis_retries=REDIS_RETRIES.read(env),
            retry_after=RETRY_AFTER.read(env),
            proxy_hops=PROXY_HOPS.read(env),
            metrics_token=METRICS_TOKEN.read(env),
        )

    @property
    def redis_url_for_logs(self) -> str:
        """Return the Redis URL (and the read URL, if another) with passwords masked."""
        reads = f" (reads from {redacted(self.read_url)})" if self.read_url else ""
        return redacted(self.redis_url) + reads

    def to_env(self) -> dict[str, str]:
        """Return the variables that rebuild this config (for a worker process)."""
        return {
            BIND.variable: host_port(self.host, self.port),
            WORKERS.variable: str(self.workers),
            THREADS.variable: str(self.threads),
            REDIS_URL.variable: self.redis_url,
            REDIS_READ_URL.variable: self.read_url or self.redis_url,
            QUEUE_URL.variable: self.queue_url or self.redis_url,
            KEY_PREFIX.variable: self.key_prefix,
            REDIS_TIMEOUT.variable: repr(self.redis_timeout),
            REDIS_RETRIES.variable: str(self.redis_retries),
            RETRY_AFTER.variable: str(self.retry_after),
            PROXY_HOPS.variable: str(self.proxy_hops),
            METRICS_TOKEN.variable: self.metrics_token,
        }
