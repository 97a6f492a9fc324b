"""The API app with and without its per-request instrumentation, for benchmarks only.

``instrumented`` is ``create_app()`` as served in production (run it with
``PROMETHEUS_MULTIPROC_DIR`` set, as ``telemetry api`` does). ``uninstrumented`` is the same
app without the WSGI wrapper of api_service/metrics.py that counts each request (nor the
counting of api_service/fast_path.py), to measure what counting costs; ``/metrics`` and the
Redis error count stay.
"""

from __future__ import annotations

from flask import Flask

from api_service import create_app, metrics


def instrumented() -> Flask:
    """Return the API as served (a WSGI factory)."""
    return create_app()


def uninstrumented() -> Flask:
    """Return the API without the request counting (a WSGI factory)."""
    register = metrics.register_metrics

    def without_counting(app: Flask) -> None:
        inner = app.wsgi_app
        register(app)
        if app.wsgi_app is inner:
            raise RuntimeError("api_service.metrics no longer wraps the app: update this variant")
        app.wsgi_app = inner  # type: ignore[method-assign]
        del app.extensions[metrics.COUNTER]  # fast_path.py counts nothing either

    metrics.register_metrics = without_counting
    try:
        return create_app()
    finally:
        metrics.register_metrics = register
