"""``telemetry api``: serve the telemetry API under the production WSGI server."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from api_service.config import SETTINGS, ApiConfig
from telemetry_common.logs import start_command
from telemetry_common.options import Options
from telemetry_common.platforms import multiprocess_metrics
from telemetry_common.variables import PROMETHEUS_MULTIPROC_DIR

HELP = "Serve GetMetric and ListMetrics from the Redis snapshot (CSV or JSON)."

logger = logging.getLogger(__name__)

# Where prometheus-client's multiprocess mode keeps each worker's values (its own variable).
MULTIPROC_DIR = PROMETHEUS_MULTIPROC_DIR.variable


OPTIONS = Options(SETTINGS, ApiConfig.from_env)
add_arguments = OPTIONS.add_arguments
resolve = OPTIONS.resolve


@contextlib.contextmanager
def metrics_directory(platform: str | None = None) -> Iterator[Path | None]:
    """Give the workers an empty PROMETHEUS_MULTIPROC_DIR: a new temporary one unless it is set.

    It must be set before prometheus-client is imported, so before the workers start. A
    directory created here is removed on exit; a given one is emptied of earlier values. On
    Windows the API is one worker process that keeps its own values: no directory (None).
    """
    if not multiprocess_metrics(platform):
        if os.environ.pop(MULTIPROC_DIR, None):
            logger.warning("%s is not used on Windows: one worker keeps the metrics", MULTIPROC_DIR)
        yield None
        return
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        stale = list(path.glob("*.db"))
        for file in stale:
            file.unlink(missing_ok=True)
        if stale:
            logger.info("removed %d metrics files of an earlier run from %s", len(stale), path)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="telemetry-api-metrics-"))
    os.environ[MULTIPROC_DIR] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_DIR, None)
        shutil.rmtree(path, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    """Serve the API until SIGTERM or SIGINT; return the exit status."""
    from api_service.wsgi import FACTORY
    from telemetry_common.wsgi_server import serve

    config = start_command(OPTIONS, args)
    os.environ.update(config.to_env())  # each worker rebuilds the config from these
    logger.info(
        "telemetry API on http://%s:%d: %d worker(s) x %d thread(s), Redis %s",
        config.host,
        config.port,
        config.workers,
        config.threads,
        config.redis_url_for_logs,
    )
    with metrics_directory() as metrics_dir:
        if metrics_dir is not None:
            logger.info("the workers' metrics are added up from %s", metrics_dir)
        serve(
            FACTORY,
            config.host,
            config.port,
            workers=config.workers,
            blocking_threads=config.threads,
        )
    logger.info("telemetry API stopped")
    return 0
