"""The factory granian calls in its worker: the app from the environment, ticking."""

from __future__ import annotations

import logging
import os

from flask import Flask

from generator_service import create_app
from generator_service.config import GeneratorConfig
from generator_service.ticker import Ticker
from generator_service.views import feed
from telemetry_common.logs import configure_logging

logger = logging.getLogger(__name__)

FACTORY = "generator_service.wsgi:serving_app"


def serving_app() -> Flask:
    """Build the app from ``TELEMETRY_*`` variables and start its ticker thread."""
    configure_logging(os.environ)
    config = GeneratorConfig.from_env(os.environ)
    app = create_app(config)
    with app.app_context():
        ticker = Ticker(feed().tick, config.tick_interval)
    ticker.start()
    app.extensions["generator_ticker"] = ticker
    logger.info(
        "generator ready: %d switches, tick every %g s, spike probability %g, seed %s",
        config.switches,
        config.tick_interval,
        config.spike_probability,
        config.seed,
    )
    return app
