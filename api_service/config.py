"""The API's settings: a frozen dataclass read from ``TELEMETRY_*`` variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from telemetry_common.keys import DEFAULT_PREFIX
from telemetry_common.options import Setting
from telemetry_common.redis_client import redacted
from telemetry_common.redis_settings import check_cluster_prefix, env_queue_url, env_read_url
from telemetry_common.settings import (
    DEFAULT_REDIS_URL,
    PREFIX,
    ConfigError,
    env_bind,
    env_float,
    env_int,
    env_redis_url,
    env_str,
)

BIND = PREFIX + "API_BIND"
WORKERS = PREFIX + "API_WORKERS"
THREADS = PREFIX + "API_THREADS"
PROXY_HOPS = PREFIX + "API_PROXY_HOPS"
RETRY_AFTER = PREFIX + "API_RETRY_AFTER"
REDIS_URL = PREFIX + "REDIS_URL"
READ_URL = PREFIX + "REDIS_READ_URL"
QUEUE_URL = PREFIX + "QUEUE_URL"
KEY_PREFIX = PREFIX + "KEY_PREFIX"
REDIS_TIMEOUT = PREFIX + "REDIS_TIMEOUT"
REDIS_RETRIES = PREFIX + "REDIS_RETRIES"

DEFAULT_BIND = "127.0.0.1:8080"
# A prefix is a printable word: braces allowed (a Redis Cluster hash tag), no spaces.
_KEY_PREFIX = re.compile(r"[!-~]{1,64}")


def _other(url: str, redis_url: str) -> str | None:
    return None if url == redis_url else url


def cores() -> int:
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


SETTINGS: tuple[Setting, ...] = (
    Setting("--bind", BIND, DEFAULT_BIND, "HOST:PORT to serve the API on"),
    Setting("--workers", WORKERS, "the number of cores", "worker processes, 1..64"),
    Setting("--threads", THREADS, "4", "request threads per worker process, 1..64"),
    Setting("--redis-url", REDIS_URL, f"REDIS_URL, else {DEFAULT_REDIS_URL}", "the Redis URL"),
    Setting("--read-url", READ_URL, "the Redis URL", "Redis to read snapshots from"),
    Setting("--queue-url", QUEUE_URL, "the Redis URL", "Redis of the refresh queue"),
    Setting("--key-prefix", KEY_PREFIX, DEFAULT_PREFIX, "prefix of every Redis key"),
    Setting("--redis-timeout", REDIS_TIMEOUT, "0.5", "seconds per Redis attempt, over 0"),
    Setting("--redis-retries", REDIS_RETRIES, "1", "Redis retries after a failure, 0..5"),
    Setting("--retry-after", RETRY_AFTER, "1", "Retry-After seconds of a 503, 1..60"),
    Setting("--proxy-hops", PROXY_HOPS, "1", "proxies whose X-Forwarded-* to trust, 0..5"),
)


@dataclass(frozen=True)
class ApiConfig:
    """Resolved settings of the API."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = field(default_factory=cores)
    threads: int = 4
    redis_url: str = DEFAULT_REDIS_URL
    read_url: str | None = None  # None: redis_url
    queue_url: str | None = None  # None: redis_url
    key_prefix: str = DEFAULT_PREFIX
    redis_timeout: float = 0.5
    redis_retries: int = 1
    retry_after: int = 1
    proxy_hops: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ApiConfig:
        """Read every setting from ``env``; raise ConfigError naming a bad variable and value."""
        host, port = env_bind(env, BIND, DEFAULT_BIND)
        prefix = env_str(env, KEY_PREFIX, DEFAULT_PREFIX)
        if not _KEY_PREFIX.fullmatch(prefix):
            raise ConfigError(f"{KEY_PREFIX}={prefix!r}: expected 1 to 64 printable characters")
        redis_url = env_redis_url(env)
        read_url = env_read_url(env, redis_url)
        for url in (redis_url, read_url):
            check_cluster_prefix(url, prefix)
        return cls(
            host=host,
            port=port,
            workers=env_int(env, WORKERS, cores(), minimum=1, maximum=64),
            threads=env_int(env, THREADS, cls.threads, minimum=1, maximum=64),
            redis_url=redis_url,
            read_url=_other(read_url, redis_url),
            queue_url=_other(env_queue_url(env, redis_url), redis_url),
            key_prefix=prefix,
            redis_timeout=env_float(
                env, REDIS_TIMEOUT, cls.redis_timeout, maximum=60.0, exclusive_minimum=True
            ),
            redis_retries=env_int(env, REDIS_RETRIES, cls.redis_retries, maximum=5),
            retry_after=env_int(env, RETRY_AFTER, cls.retry_after, minimum=1, maximum=60),
            proxy_hops=env_int(env, PROXY_HOPS, cls.proxy_hops, maximum=5),
        )

    @property
    def redis_url_for_logs(self) -> str:
        """Return the Redis URL (and the read URL, if another) with passwords masked."""
        reads = f" (reads from {redacted(self.read_url)})" if self.read_url else ""
        return redacted(self.redis_url) + reads

    def to_env(self) -> dict[str, str]:
        """Return the variables that rebuild this config (for a worker process)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return {
            BIND: f"{host}:{self.port}",
            WORKERS: str(self.workers),
            THREADS: str(self.threads),
            REDIS_URL: self.redis_url,
            READ_URL: self.read_url or self.redis_url,
            QUEUE_URL: self.queue_url or self.redis_url,
            KEY_PREFIX: self.key_prefix,
            REDIS_TIMEOUT: repr(self.redis_timeout),
            REDIS_RETRIES: str(self.redis_retries),
            RETRY_AFTER: str(self.retry_after),
            PROXY_HOPS: str(self.proxy_hops),
        }
