"""Read ``TELEMETRY_*`` settings from the environment, failing fast on a bad value."""

from __future__ import annotations

import os
from collections.abc import Mapping

PREFIX = "TELEMETRY_"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable and value."""


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    """Return the variable's text, or the default when unset or empty."""
    value = _raw(env, name)
    return default if value is None else value


def env_int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int | None = None
) -> int:
    """Return the variable as an integer within bounds."""
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: expected a whole number") from None
    _check_bounds(name, value, number, minimum, maximum)
    return number


def env_float(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float = 0.0,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """Return the variable as a finite float within bounds."""
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: expected a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConfigError(f"{name}={value!r}: expected a finite number")
    if exclusive_minimum and number <= minimum:
        raise ConfigError(f"{name}={value!r}: must be greater than {minimum:g}")
    _check_bounds(name, value, number, minimum, maximum)
    return number


def env_optional_int(env: Mapping[str, str], name: str) -> int | None:
    """Return the variable as an integer, or None when unset."""
    value = _raw(env, name)
    if value is None:
        return None
    return env_int(env, name, 0, minimum=0)


def _check_bounds(
    name: str, text: str, number: float, minimum: float, maximum: float | None
) -> None:
    if number < minimum:
        raise ConfigError(f"{name}={text!r}: must be at least {minimum:g}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name}={text!r}: must be at most {maximum:g}")


def parse_bind(name: str, value: str) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:port`` for IPv6) into its parts."""
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"{name}={value!r}: expected HOST:PORT with a port in 1..65535")
    return host, int(port_text)


def env_bind(env: Mapping[str, str], name: str, default: str) -> tuple[str, int]:
    """Return the variable as a ``(host, port)`` pair."""
    return parse_bind(name, env_str(env, name, default))


def env_redis_url(env: Mapping[str, str]) -> str:
    """Return ``TELEMETRY_REDIS_URL``, else ``REDIS_URL``, else the local default."""
    for name in (PREFIX + "REDIS_URL", "REDIS_URL"):
        value = _raw(env, name)
        if value is not None:
            return checked_redis_url(name, value)
    return DEFAULT_REDIS_URL


def checked_redis_url(name: str, value: str) -> str:
    """Return ``value`` if it is a Redis URL the system accepts (see redis_urls.py)."""
    from telemetry_common.redis_urls import UrlError, parse, redacted

    try:
        parse(value)
    except UrlError as exc:
        raise ConfigError(f"{name}={redacted(value)!r}: {exc}") from None
    return value


def env_read_url(env: Mapping[str, str], write_url: str) -> str:
    """Return ``TELEMETRY_REDIS_READ_URL``, where the API reads; default: the write URL."""
    value = _raw(env, PREFIX + "REDIS_READ_URL")
    return write_url if value is None else checked_redis_url(PREFIX + "REDIS_READ_URL", value)


def env_queue_url(env: Mapping[str, str], write_url: str) -> str:
    """Return ``TELEMETRY_QUEUE_URL`` (RQ queue, leader lock); default: a non-cluster write URL."""
    from telemetry_common.redis_urls import parse

    name = PREFIX + "QUEUE_URL"
    value = _raw(env, name)
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
    from telemetry_common.redis_urls import parse

    start = prefix.find("{")
    end = prefix.find("}", start + 1)
    tagged = start >= 0 and end > start + 1  # Redis hashes the first non-empty {...} only
    if parse(url).is_cluster and not tagged:
        raise ConfigError(
            f"{PREFIX}KEY_PREFIX={prefix!r}: on a Redis Cluster the prefix needs a hash tag so "
            f"that a snapshot stays in one slot: use {{{prefix}}}"
        )


def environ() -> Mapping[str, str]:
    """Return the process environment (a seam for tests)."""
    return os.environ
