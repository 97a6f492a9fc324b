"""Rules that turn a ``TELEMETRY_*`` variable's text into a value, failing fast on a bad one.

A rule is called with the variable's name and its text, and returns the value or raises
ConfigError with a message that names the variable and the value. telemetry_common.options
pairs each variable with its rule, default and help.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

PREFIX = "TELEMETRY_"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

T = TypeVar("T")
Rule = Callable[[str, str], T]


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable and value."""


def raw(env: Mapping[str, str], name: str) -> str | None:
    """Return the variable's text without surrounding spaces, or None when unset or empty."""
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def text(name: str, value: str) -> str:
    """Accept any text."""
    return value


def whole(minimum: int = 0, maximum: int | None = None) -> Rule[int]:
    """Return a rule for a whole number within bounds."""

    def rule(name: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected a whole number") from None
        _check_bounds(name, value, number, minimum, maximum)
        return number

    return rule


def optional_whole(name: str, value: str) -> int | None:
    """Return a whole number of at least 0, or None for an empty default."""
    return whole(0)(name, value) if value else None


def number(
    minimum: float = 0.0, maximum: float | None = None, *, above: bool = False
) -> Rule[float]:
    """Return a rule for a finite number within bounds (``above``: greater than the minimum)."""

    def rule(name: str, value: str) -> float:
        try:
            found = float(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected a number") from None
        if found != found or found in (float("inf"), float("-inf")):
            raise ConfigError(f"{name}={value!r}: expected a finite number")
        if above and found <= minimum:
            raise ConfigError(f"{name}={value!r}: must be greater than {minimum:g}")
        _check_bounds(name, value, found, minimum, maximum)
        return found

    return rule


def matching(pattern: str, expected: str) -> Rule[str]:
    """Return a rule for text that matches ``pattern`` as a whole."""
    compiled = re.compile(pattern)

    def rule(name: str, value: str) -> str:
        if not compiled.fullmatch(value):
            raise ConfigError(f"{name}={value!r}: expected {expected}")
        return value

    return rule


def one_of(*choices: str) -> Rule[str]:
    """Return a rule for one of ``choices``, in any case."""

    def rule(name: str, value: str) -> str:
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(choices)}")

    return rule


def url(expected: str, *schemes: str) -> Rule[str]:
    """Return a rule for a URL that starts with one of ``schemes``; ``expected`` says which."""

    def rule(name: str, value: str) -> str:
        if not value.startswith(schemes):
            raise ConfigError(f"{name}={value!r}: expected {expected}")
        return value

    return rule


def bind(name: str, value: str) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:port`` for IPv6) into its parts."""
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"{name}={value!r}: expected HOST:PORT with a port in 1..65535")
    return host, int(port_text)


def _check_bounds(
    name: str, value: str, found: float, minimum: float, maximum: float | None
) -> None:
    if found < minimum:
        raise ConfigError(f"{name}={value!r}: must be at least {minimum:g}")
    if maximum is not None and found > maximum:
        raise ConfigError(f"{name}={value!r}: must be at most {maximum:g}")


def bracketed(host: str) -> str:
    """Return ``host`` as a URL or an address writes it: an IPv6 one in brackets (``[::1]``)."""
    return f"[{host}]" if ":" in host else host


def host_port(host: str, port: int) -> str:
    """Return ``host:port``, with an IPv6 host in brackets (``[::1]:8080``)."""
    return f"{bracketed(host)}:{port}"


def environ() -> Mapping[str, str]:
    """Return the process environment (a seam for tests)."""
    return os.environ
