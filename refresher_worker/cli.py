"""``telemetry refresher``: keep the Redis snapshot filled, as leader or standby."""

from __future__ import annotations

import argparse
import logging

from refresher_worker.settings import SETTINGS, RefresherSettings
from telemetry_common.logs import start_command
from telemetry_common.options import Options

HELP = "Refresh the Redis snapshot from the generator: one leader enqueues, every process works."

logger = logging.getLogger(__name__)

OPTIONS = Options(SETTINGS, RefresherSettings.from_env)
add_arguments = OPTIONS.add_arguments
resolve = OPTIONS.resolve


def run(args: argparse.Namespace) -> int:
    """Refresh until SIGTERM or SIGINT, then finish the current refresh; return 0."""
    import signal
    import threading

    from refresher_worker.jobs import WRITE_TIMEOUT, configure
    from refresher_worker.metrics import serve_metrics
    from refresher_worker.scheduler import Scheduler
    from refresher_worker.status import process_identity
    from refresher_worker.worker import WorkerLoop
    from telemetry_common.platforms import stop_signals
    from telemetry_common.redis_client import connect

    settings = start_command(OPTIONS, args)
    identity = process_identity()
    logger.info(
        "refresher %s: %s -> %s (prefix %r) every %g s, TTL %d s, fetch timeout %g s",
        identity,
        settings.source_url,  # the log formatters mask passwords and tokens
        settings.redis_url,
        settings.key_prefix,
        settings.interval,
        settings.ttl,
        settings.fetch_timeout,
    )
    takeover = settings.leader_ttl + settings.renew_every
    if takeover >= settings.ttl - settings.interval:
        logger.warning(
            "a standby needs up to %.1f s to take over, but the snapshot may expire %.1f s "
            "after the leader dies: lower TELEMETRY_LEADER_TTL or raise TELEMETRY_TTL",
            takeover,
            settings.ttl - settings.interval,
        )
    configure(settings, identity)
    metrics_server = serve_metrics(settings.metrics_address, settings.metrics_token)
    stop = threading.Event()
    queue_url = settings.queue_url or settings.redis_url  # the RQ queue and the leader lock
    scheduler_client = connect(queue_url, timeout=settings.renew_every, retries=1)
    scheduler = Scheduler(scheduler_client, settings, identity, stop)
    debug = logging.getLogger().isEnabledFor(logging.DEBUG)
    worker_client = connect(queue_url, timeout=WRITE_TIMEOUT, retries=1)
    loop = WorkerLoop(worker_client, identity, stop, rq_log_level="DEBUG" if debug else "WARNING")
    for sig in stop_signals():  # SIGTERM, SIGINT, and Ctrl-Break on Windows
        signal.signal(sig, loop.handle_signal)
    scheduler.start()
    try:
        loop.run()
    finally:
        stop.set()
        scheduler.done.set()
        scheduler.thread.join(timeout=5)
        if metrics_server is not None:
            metrics_server.shutdown()
    logger.info("refresher %s stopped", identity)
    return 0
