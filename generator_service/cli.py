"""``telemetry generator``: serve simulated switch metrics under the production WSGI server."""

from __future__ import annotations

import argparse
import logging
import os

from generator_service.config import SEED, SETTINGS, GeneratorConfig
from telemetry_common.settings import ConfigError, environ

HELP = "Simulate switches and serve their metrics as CSV at /counters (and /healthz)."

logger = logging.getLogger(__name__)


def _dest(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per setting; each overrides its environment variable."""
    for setting in SETTINGS:
        parser.add_argument(
            setting.option,
            dest=_dest(setting.option),
            metavar=setting.variable.removeprefix("TELEMETRY_"),
            default=None,
            help=f"{setting.help} (env {setting.variable}, default {setting.default})",
        )


def resolve(args: argparse.Namespace, env: dict[str, str]) -> GeneratorConfig:
    """Return the config from ``env`` with the given options on top."""
    given = {}
    for setting in SETTINGS:
        value = getattr(args, _dest(setting.option), None)
        if value is not None:
            env[setting.variable] = value
            given[setting.variable] = setting.option
    try:
        return GeneratorConfig.from_env(env)
    except ConfigError as exc:
        variable = str(exc).partition("=")[0]
        if variable in given:
            raise ConfigError(f"{given[variable]}: {exc}") from None
        raise


def run(args: argparse.Namespace) -> int:
    """Serve one generator process until SIGTERM or SIGINT; return the exit status."""
    from generator_service.wsgi import FACTORY
    from telemetry_common.logs import configure_logging
    from telemetry_common.wsgi_server import serve

    env = dict(environ())
    config = resolve(args, env)
    configure_logging(env)
    # The worker rebuilds the same config from the environment it inherits.
    os.environ.update(config.to_env())
    if config.seed is None:
        os.environ.pop(SEED, None)
    serve(FACTORY, config.host, config.port, workers=1)
    logger.info("generator stopped")
    return 0
