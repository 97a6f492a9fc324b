"""Settings of ``telemetry up``: its options on top of ``TELEMETRY_*`` variables, checked at once.

The variables are those the services read themselves, so one table documents both ways of
running the stack; ``up`` only adds how many refreshers to run and how long to wait.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

from api_service.config import BIND as API_BIND
from api_service.config import DEFAULT_BIND as API_DEFAULT_BIND
from api_service.config import WORKERS as API_WORKERS
from api_service.config import cores
from generator_service.config import BIND as GENERATOR_BIND
from generator_service.config import DEFAULT_BIND as GENERATOR_DEFAULT_BIND
from generator_service.config import MAX_SWITCHES, SWITCHES
from refresher_worker.settings import SOURCE_URL
from telemetry_common.keys import DEFAULT_PREFIX
from telemetry_common.settings import (
    PREFIX,
    ConfigError,
    env_bind,
    env_float,
    env_int,
    env_redis_url,
    env_str,
)
from telemetry_stack.servers.redis_server import free_port

REDIS_URL = PREFIX + "REDIS_URL"
KEY_PREFIX = PREFIX + "KEY_PREFIX"
REFRESHERS = PREFIX + "REFRESHERS"
READY_TIMEOUT = PREFIX + "READY_TIMEOUT"

# option -> the variable it overrides (the two port options change the port of a bind only)
OPTION_VARIABLES = {
    "--api-workers": API_WORKERS,
    "--switches": SWITCHES,
    "--refreshers": REFRESHERS,
    "--ready-timeout": READY_TIMEOUT,
}


def dest(option: str) -> str:
    """Return the argparse destination of ``option``."""
    return option.removeprefix("--").replace("-", "_")


def url_host(host: str) -> str:
    """Return the host a client on this machine uses to reach a server bound to ``host``."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True)
class UpSettings:
    """What ``telemetry up`` starts and where."""

    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_workers: int = 1
    generator_host: str = "127.0.0.1"
    generator_port: int = 9001
    switches: int = 100
    refreshers: int = 1
    redis_url: str | None = None  # None: start a local server for this run
    embedded_redis: bool = False
    ready_timeout: float = 30.0
    key_prefix: str = DEFAULT_PREFIX

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

        def bind(host: str, port: int) -> str:
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

        return {
            **env,
            "PYTHONUNBUFFERED": "1",
            REDIS_URL: redis_url,
            GENERATOR_BIND: bind(self.generator_host, self.generator_port),
            SWITCHES: str(self.switches),
            SOURCE_URL: f"{self.generator_url}/counters",
            API_BIND: bind(self.api_host, self.api_port),
            API_WORKERS: str(self.api_workers),
        }


def _port(option: str, text: str | None, host: str, port: int) -> int:
    if text is None:
        return port
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError(f"{option}={text!r}: expected a port in 0..65535 (0: any free port)")
    return int(text) or free_port(host)


def resolve(args: argparse.Namespace, env: Mapping[str, str]) -> UpSettings:
    """Return the settings from ``env`` with the given options on top; fail on a bad value."""
    merged = dict(env)
    given = {}
    for option, variable in OPTION_VARIABLES.items():
        value = getattr(args, dest(option), None)
        if value is not None:
            merged[variable] = value
            given[variable] = option
    try:
        api_host, api_port = env_bind(merged, API_BIND, API_DEFAULT_BIND)
        generator_host, generator_port = env_bind(merged, GENERATOR_BIND, GENERATOR_DEFAULT_BIND)
        external = any(merged.get(name, "").strip() for name in (REDIS_URL, "REDIS_URL"))
        return UpSettings(
            api_host=api_host,
            api_port=_port("--api-port", args.api_port, api_host, api_port),
            api_workers=env_int(merged, API_WORKERS, cores(), minimum=1, maximum=64),
            generator_host=generator_host,
            generator_port=_port(
                "--generator-port", args.generator_port, generator_host, generator_port
            ),
            switches=env_int(merged, SWITCHES, 100, minimum=1, maximum=MAX_SWITCHES),
            refreshers=env_int(merged, REFRESHERS, 1, minimum=1, maximum=16),
            redis_url=env_redis_url(merged) if external and not args.embedded_redis else None,
            embedded_redis=args.embedded_redis,
            ready_timeout=env_float(merged, READY_TIMEOUT, 30.0, exclusive_minimum=True),
            key_prefix=env_str(merged, KEY_PREFIX, DEFAULT_PREFIX),
        )
    except ConfigError as exc:
        variable = str(exc).partition("=")[0]
        if variable in given:
            raise ConfigError(f"{given[variable]}: {exc}") from None
        raise
