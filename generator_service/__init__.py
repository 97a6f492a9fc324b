"""Switch telemetry generator: simulated switch metrics served as CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this package to build --help: stay light
    from flask import Flask

    from generator_service.config import GeneratorConfig


def create_app(config: GeneratorConfig | None = None) -> Flask:
    """Build the generator app around a fresh feed; serving starts its ticker separately."""
    from flask import Flask

    from generator_service.config import GeneratorConfig
    from generator_service.feed import Feed
    from generator_service.views import EXTENSION, bp
    from telemetry_common.settings import environ

    if config is None:
        config = GeneratorConfig.from_env(environ())
    app = Flask(__name__)
    app.extensions[EXTENSION] = Feed(config)
    app.register_blueprint(bp)
    return app
