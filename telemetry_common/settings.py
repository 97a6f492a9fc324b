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
            from telemetry_common.redis_settings import checked_redis_url

            return checked_redis_url(name, value)
    return DEFAULT_REDIS_URL


def environ() -> Mapping[str, str]:
    """Return the process environment (a seam for tests)."""
    return os.environ
