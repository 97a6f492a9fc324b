"""``telemetry generator``: serve simulated switch metrics under the production WSGI server."""

from __future__ import annotations

import argparse
import logging
import os

from generator_service.config import SETTINGS, GeneratorConfig
from telemetry_common.options import add_setting_options, resolve_settings
from telemetry_common.settings import environ
from telemetry_common.variables import SEED

HELP = "Simulate switches and serve their metrics as CSV at /counters (and /healthz)."

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per setting; each overrides its environment variable."""
    add_setting_options(parser, SETTINGS)


def resolve(args: argparse.Namespace, env: dict[str, str]) -> GeneratorConfig:
    """Return the settings from ``env`` with the given options on top."""
    return resolve_settings(args, env, SETTINGS, GeneratorConfig.from_env)


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
        os.environ.pop(SEED.variable, None)
    serve(FACTORY, config.host, config.port, workers=1)
    logger.info("generator stopped")
    return 0
