"""Every environment variable of the product, declared once: one row each, as in the README.

A row is ``Setting(option, variable, default, help, rule)`` (see telemetry_common.options): the
role that reads a variable lists its row in its ``SETTINGS``, which builds that command's
options; tests/unit/test_settings_readme.py checks this table against the README's.
"""

from __future__ import annotations

from typing import Any

from telemetry_common.keys import DEFAULT_PREFIX
from telemetry_common.options import Setting
from telemetry_common.redis_settings import checked_redis_url, optional_redis_url, queue_redis_url
from telemetry_common.settings import (
    DEFAULT_REDIS_URL,
    bind,
    matching,
    number,
    one_of,
    optional_whole,
    text,
    url,
    whole,
)

MAX_SWITCHES = 1_000_000
METRICS_OFF = ("0", "off")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


def metrics_bind(name: str, value: str) -> tuple[str, int] | None:
    """Return where to serve the metrics, or None when ``0`` or ``off`` disables them."""
    return None if value.lower() in METRICS_OFF else bind(name, value)


# fmt: off
# Shared by the roles that use Redis.
REDIS_URL = Setting(
    "--redis-url", "TELEMETRY_REDIS_URL", DEFAULT_REDIS_URL,
    "the Redis URL (redis://, rediss://, unix://, redis+sentinel://, redis+cluster://)",
    checked_redis_url, shown=f"REDIS_URL, else {DEFAULT_REDIS_URL}", fallback=("REDIS_URL",),
)
REDIS_READ_URL = Setting(
    "--read-url", "TELEMETRY_REDIS_READ_URL", "", "Redis the API reads snapshots from",
    optional_redis_url, shown="TELEMETRY_REDIS_URL",
)
QUEUE_URL = Setting(
    "--queue-url", "TELEMETRY_QUEUE_URL", "", "Redis of the RQ queue and the leader lock",
    queue_redis_url, shown="TELEMETRY_REDIS_URL (required on a cluster)",
)
# A prefix is a printable word: braces allowed (a Redis Cluster hash tag), no spaces.
KEY_PREFIX = Setting(
    "--key-prefix", "TELEMETRY_KEY_PREFIX", DEFAULT_PREFIX, "prefix of every Redis key",
    matching(r"[!-~]{1,64}", "1 to 64 printable characters"),
)
LOG_LEVEL = Setting("", "TELEMETRY_LOG_LEVEL", "INFO", "log level", one_of(*LOG_LEVELS))
LOG_FORMAT = Setting(
    "", "TELEMETRY_LOG_FORMAT", "text", "text, or json: one object per line", one_of(*LOG_FORMATS)
)

# The generator.
GENERATOR_BIND = Setting(
    "--bind", "TELEMETRY_GENERATOR_BIND", "127.0.0.1:9001",
    "HOST:PORT to serve /counters and /healthz on", bind,
)
SWITCHES = Setting(
    "--switches", "TELEMETRY_SWITCHES", "100", f"number of switches, 1..{MAX_SWITCHES:,}",
    whole(1, MAX_SWITCHES),
)
TICK_INTERVAL = Setting(
    "--tick-interval", "TELEMETRY_TICK_INTERVAL", "1", "seconds between ticks", number(above=True)
)
SPIKE_PROBABILITY = Setting(
    "--spike-probability", "TELEMETRY_SPIKE_PROBABILITY", "0.0001",
    "chance per value per tick of a spike, 0..1", number(0.0, 1.0),
)
SEED = Setting(
    "--seed", "TELEMETRY_SEED", "", "seed of the random generator, for a reproducible run",
    optional_whole, shown="unset",
)

# The refresher.
SOURCE_URL = Setting(
    "--source-url", "TELEMETRY_SOURCE_URL", "http://127.0.0.1:9001/counters",
    "URL of the generator's CSV table", url("an http:// or https:// URL", "http://", "https://"),
)
REFRESH_INTERVAL = Setting(
    "--interval", "TELEMETRY_REFRESH_INTERVAL", "5", "seconds between refreshes", number(above=True)
)
TTL = Setting(
    "--ttl", "TELEMETRY_TTL", "10", "seconds a snapshot lives, greater than the interval", whole(1)
)
FETCH_TIMEOUT = Setting(
    "--fetch-timeout", "TELEMETRY_FETCH_TIMEOUT", "3", "seconds allowed per fetch",
    number(above=True), shown="min(3, 0.6 x interval)",
)
MAX_BODY_BYTES = Setting(
    "--max-body-bytes", "TELEMETRY_MAX_BODY_BYTES", "67108864", "largest CSV body accepted",
    whole(1), shown="67108864 (64 MiB)",
)
LEADER_TTL = Setting(
    "--leader-ttl", "TELEMETRY_LEADER_TTL", "2", "seconds the leader lock lives unless renewed",
    number(0.2),
)
REFRESHER_METRICS_BIND = Setting(
    "--metrics-bind", "TELEMETRY_REFRESHER_METRICS_BIND", "127.0.0.1:9102",
    "HOST:PORT of the Prometheus /metrics endpoint; 0 or off disables it", metrics_bind,
)

# The API.
API_BIND = Setting(
    "--bind", "TELEMETRY_API_BIND", "127.0.0.1:8080", "HOST:PORT to serve the API on", bind
)
API_WORKERS = Setting(
    "--workers", "TELEMETRY_API_WORKERS", "1", "worker processes", whole(1, 64),
    shown="the number of cores",
)
API_THREADS = Setting(
    "--threads", "TELEMETRY_API_THREADS", "4", "request threads per worker process", whole(1, 64)
)
REDIS_TIMEOUT = Setting(
    "--redis-timeout", "TELEMETRY_REDIS_TIMEOUT", "0.5", "seconds per Redis attempt",
    number(0.0, 60.0, above=True),
)
REDIS_RETRIES = Setting(
    "--redis-retries", "TELEMETRY_REDIS_RETRIES", "1", "Redis retries after a failure", whole(0, 5)
)
API_RETRY_AFTER = Setting(
    "--retry-after", "TELEMETRY_API_RETRY_AFTER", "1", "Retry-After seconds of a 503", whole(1, 60)
)
API_PROXY_HOPS = Setting(
    "--proxy-hops", "TELEMETRY_API_PROXY_HOPS", "0", "proxies whose X-Forwarded-* to trust",
    whole(0, 5),
)
METRICS_TOKEN = Setting(
    "", "TELEMETRY_METRICS_TOKEN", "", "bearer token /metrics asks for (API and refresher)", text,
    shown="none: /metrics is open",
)
# prometheus-client's own variable, which the API sets for its workers when it is unset.
PROMETHEUS_MULTIPROC_DIR = Setting(
    "", "PROMETHEUS_MULTIPROC_DIR", "", "where the API workers' metrics are added up", text,
    shown="a temporary directory per run",
)

# telemetry up.
REFRESHERS = Setting(
    "--refreshers", "TELEMETRY_REFRESHERS", "1", "refresher processes, 2 adds a standby",
    whole(1, 16),
)
READY_TIMEOUT = Setting(
    "--ready-timeout", "TELEMETRY_READY_TIMEOUT", "30",
    "seconds each process may take to become healthy", number(above=True),
)
# fmt: on

# Every row above, in order.
VARIABLES: tuple[Setting[Any], ...] = tuple(
    v for v in dict(globals()).values() if isinstance(v, Setting)
)
