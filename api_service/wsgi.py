"""The factory granian calls in each worker: the app built from the environment."""

from __future__ import annotations

import logging
import os

from flask import Flask

from api_service import create_app
from api_service.config import ApiConfig
from telemetry_common.logs import configure_logging

logger = logging.getLogger(__name__)

FACTORY = "api_service.wsgi:serving_app"


def serving_app() -> Flask:
    """Build the app from ``TELEMETRY_*`` variables, with a connection pool of its own."""
    configure_logging(os.environ)
    config = ApiConfig.from_env(os.environ)
    app = create_app(config)
    logger.info(
        "api worker %d ready: Redis %s, key prefix %r, timeout %g s",
        os.getpid(),
        config.redis_url_for_logs,
        config.key_prefix,
        config.redis_timeout,
    )
    return app
