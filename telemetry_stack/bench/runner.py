"""Run the load: start the worker processes, show progress each second, merge their tallies.

Python threads share one interpreter lock, so the load comes from processes (multiprocessing),
each an asyncio loop over its share of the connections; the connections spread evenly.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, cast

from telemetry_stack.bench.answers import Catalog
from telemetry_stack.bench.options import BenchSettings
from telemetry_stack.bench.plan import plans
from telemetry_stack.bench.stats import Tally
from telemetry_stack.bench.worker import work

logger = logging.getLogger(__name__)

START_TIMEOUT = 60.0  # seconds for the workers to start
GRACE = 10.0  # seconds past the planned end before stragglers are killed

# Called once a second with (seconds since go, measuring, all requests sent so far including
# the warm-up's, measured requests, measured failures).
Progress = Callable[[float, bool, int, int, int], None]


def run_load(settings: BenchSettings, catalog: Catalog, progress: Progress) -> Tally:
    """Run the workers to the end (or until Ctrl-C) and return their merged tally."""
    context = multiprocessing.get_context()
    pipes: dict[Any, BaseProcess] = {}  # a Connection (a PipeConnection on Windows)
    for plan in plans(settings, catalog):
        mine, theirs = context.Pipe()
        process: BaseProcess = context.Process(target=work, args=(plan, theirs), daemon=True)
        process.start()
        theirs.close()
        pipes[mine] = process
    try:
        return _drive(settings, pipes, progress)
    finally:
        for pipe, process in pipes.items():
            process.join(1.0)
            if process.is_alive():
                logger.warning("worker %s did not stop: killing it", process.pid)
                process.kill()
                process.join()
            pipe.close()


def _ready(pipes: list[Connection[Any, Any]], timeout: float) -> list[Connection[Any, Any]]:
    return [cast("Connection[Any, Any]", pipe) for pipe in wait(pipes, timeout)]


def _start(pipes: list[Connection[Any, Any]]) -> None:
    """Wait until every worker says it is ready, then let them all go at once."""
    waiting = set(pipes)
    deadline = time.monotonic() + START_TIMEOUT
    while waiting:
        for pipe in _ready(list(waiting), max(0.0, deadline - time.monotonic())):
            pipe.recv()  # ("ready",)
            waiting.discard(pipe)
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"{len(waiting)} worker(s) did not start in {START_TIMEOUT:g} s")
    for pipe in pipes:
        pipe.send("go")


def _drive(
    settings: BenchSettings,
    pipes: dict[Connection[Any, Any], BaseProcess],
    progress: Progress,
) -> Tally:
    _start(list(pipes))
    began = time.monotonic()
    planned = settings.warmup + (settings.duration or 24 * 3600.0) + settings.timeout + GRACE
    latest: dict[Connection[Any, Any], tuple[bool, int, int, int]] = {}
    total, running = Tally(), set(pipes)
    while running:
        try:
            ready = _ready(list(running), 1.0)
        except KeyboardInterrupt:
            logger.warning("interrupted: stopping the workers and reporting what was measured")
            for pipe in running:
                pipe.send("stop")
            continue
        for pipe in ready:
            try:
                message = pipe.recv()
            except EOFError:
                logger.error("a worker process ended without reporting (pid %s)", pipes[pipe].pid)
                running.discard(pipe)
                continue
            if message[0] == "tick":
                latest[pipe] = message[1:]
                if len(latest) == len(running):
                    sent, measured, failed = (sum(v[i] for v in latest.values()) for i in (1, 2, 3))
                    measuring = all(v[0] for v in latest.values())
                    progress(time.monotonic() - began, measuring, sent, measured, failed)
                    latest.clear()
            elif message[0] == "done":
                total.merge(message[1])
                running.discard(pipe)
        if time.monotonic() - began > planned:
            logger.error("%d worker(s) overran the planned time: stopping them", len(running))
            break
    return total
