"""Settings of ``telemetry up``: its options on top of ``TELEMETRY_*`` variables, checked at once.

The variables are those the services read themselves, so one table documents both ways of
running the stack; ``up`` only adds how many refreshers to run and how long to wait.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from api_service.config import cores
from telemetry_common.options import Setting, resolve_settings
from telemetry_common.settings import ConfigError, bracketed, host_port
from telemetry_common.variables import (
    API_BIND,
    GENERATOR_BIND,
    KEY_PREFIX,
    READY_TIMEOUT,
    REDIS_URL,
    REFRESHERS,
    SOURCE_URL,
    SWITCHES,
)
from telemetry_common.variables import API_WORKERS as WORKERS
from telemetry_stack.servers.redis_server import free_port

API_WORKERS = replace(WORKERS, option="--api-workers", help="API worker processes")
# up's options; it also reads the binds, the Redis URL and the key prefix of the services.
SETTINGS: tuple[Setting[Any], ...] = (API_WORKERS, SWITCHES, REFRESHERS, READY_TIMEOUT)


def url_host(host: str) -> str:
    """Return the host a client on this machine uses to reach a server bound to ``host``."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return bracketed("::1" if host == "::" else host)


@dataclass(frozen=True)
class UpSettings:
    """What ``telemetry up`` starts and where."""

    api_host: str = API_BIND.value[0]
    api_port: int = API_BIND.value[1]
    api_workers: int = 1
    generator_host: str = GENERATOR_BIND.value[0]
    generator_port: int = GENERATOR_BIND.value[1]
    switches: int = SWITCHES.value
    refreshers: int = REFRESHERS.value
    redis_url: str | None = None  # None: start a local server for this run
    embedded_redis: bool = False
    ready_timeout: float = READY_TIMEOUT.value
    key_prefix: str = KEY_PREFIX.value

    @property
    def api_url(self) -> str:
        """Return the API's base URL as seen from this machine."""
        return f"http://{url_host(self.api_host)}:{self.api_port}"

    @property
    def generator_url(self) -> str:
        """Return the generator's base URL as seen from this machine."""
        return f"http://{url_host(self.generator_host)}:{self.generator_port}"

    def child_env(self, env: Mapping[str, str], redis_url: str) -> dict[str, str]:
        """Return the environment of every child: ``env`` with this stack's settings on top."""
        return {
            **env,
            "PYTHONUNBUFFERED": "1",
            REDIS_URL.variable: redis_url,
            GENERATOR_BIND.variable: host_port(self.generator_host, self.generator_port),
            SWITCHES.variable: str(self.switches),
            SOURCE_URL.variable: f"{self.generator_url}/counters",
            API_BIND.variable: host_port(self.api_host, self.api_port),
            API_WORKERS.variable: str(self.api_workers),
        }


def _port(option: str, text: str | None, host: str, port: int) -> int:
    if text is None:
        return port
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError(f"{option}={text!r}: expected a port in 0..65535 (0: any free port)")
    return int(text) or free_port(host)


def resolve(args: argparse.Namespace, env: Mapping[str, str]) -> UpSettings:
    """Return the settings from ``env`` with the given options on top; fail on a bad value."""

    def build(merged: dict[str, str]) -> UpSettings:
        api_host, api_port = API_BIND.read(merged)
        generator_host, generator_port = GENERATOR_BIND.read(merged)
        external = REDIS_URL.given(merged) is not None and not args.embedded_redis
        return UpSettings(
            api_host=api_host,
            api_port=_port("--api-port", args.api_port, api_host, api_port),
            api_workers=API_WORKERS.read(merged, cores()),
            generator_host=generator_host,
            generator_port=_port(
                "--generator-port", args.generator_port, generator_host, generator_port
            ),
            switches=SWITCHES.read(merged),
            refreshers=REFRESHERS.read(merged),
            redis_url=REDIS_URL.read(merged) if external else None,
            embedded_redis=args.embedded_redis,
            ready_timeout=READY_TIMEOUT.read(merged),
            key_prefix=KEY_PREFIX.read(merged),
        )

    return resolve_settings(args, dict(env), SETTINGS, build)
