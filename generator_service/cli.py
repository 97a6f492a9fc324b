"""``telemetry generator``: serve simulated switch metrics under the production WSGI server."""

from __future__ import annotations

import argparse
import logging
import os

from generator_service.config import SETTINGS, GeneratorConfig
from telemetry_common.logs import start_command
from telemetry_common.options import Options
from telemetry_common.variables import SEED

HELP = "Simulate switches and serve their metrics as CSV at /counters (and /healthz)."

logger = logging.getLogger(__name__)

OPTIONS = Options(SETTINGS, GeneratorConfig.from_env)
add_arguments = OPTIONS.add_arguments
resolve = OPTIONS.resolve


def run(args: argparse.Namespace) -> int:
    """Serve one generator process until SIGTERM or SIGINT; return the exit status."""
    from generator_service.wsgi import FACTORY
    from telemetry_common.wsgi_server import serve

    config = start_command(OPTIONS, args)
    # The worker rebuilds the same config from the environment it inherits.
    os.environ.update(config.to_env())
    if config.seed is None:
        os.environ.pop(SEED.variable, None)
    serve(FACTORY, config.host, config.port, workers=1)
    logger.info("generator stopped")
    return 0
