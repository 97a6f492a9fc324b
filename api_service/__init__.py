"""Switch telemetry API: the latest snapshot in Redis, served as CSV or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this package to build --help: stay light
    import redis
    from flask import Flask

    from api_service.config import ApiConfig


def create_app(
    config: ApiConfig | None = None,
    *,
    redis: redis.Redis | None = None,
    queue: redis.Redis | None = None,
) -> Flask:
    """Build the API app; ``config`` defaults to the environment, the clients to its URLs."""
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from api_service.config import ApiConfig
    from api_service.dashboard import bp as dashboard_bp
    from api_service.errors import register_error_handlers
    from api_service.exposition import bp as exposition_bp
    from api_service.fast_path import FastGetMetric
    from api_service.metrics import register_metrics
    from api_service.openapi import bp as openapi_bp
    from api_service.refresh import RefreshAsker
    from api_service.state import EXTENSION, ApiState
    from api_service.views import bp
    from telemetry_common.keys import Keys
    from telemetry_common.redis_client import connect
    from telemetry_common.settings import environ

    if config is None:
        config = ApiConfig.from_env(environ())
    timeout, retries = config.redis_timeout, config.redis_retries
    read_url = config.read_url or config.redis_url
    if redis is None:
        redis = connect(read_url, timeout=timeout, retries=retries)
    if queue is None:  # refresh requests go to the write side, never to a replica
        queue_url = config.queue_url or config.redis_url
        queue = (
            redis if queue_url == read_url else connect(queue_url, timeout=timeout, retries=retries)
        )
    app = Flask(__name__, static_folder=None)  # an API: no /static route
    app.extensions[EXTENSION] = ApiState(
        config, redis, Keys(config.key_prefix), RefreshAsker(cooldown=config.retry_after), queue
    )
    register_error_handlers(app)
    app.register_blueprint(bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(exposition_bp)
    app.register_blueprint(dashboard_bp)
    register_metrics(app)  # after the error handlers: it counts the Redis errors they answer
    hops = config.proxy_hops
    if hops:  # trust X-Forwarded-For/-Proto/-Host/-Port/-Prefix set by that many proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.wsgi_app = FastGetMetric(app, app.wsgi_app)  # type: ignore[method-assign]
    return app
