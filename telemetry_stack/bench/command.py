"""``telemetry bench``: load-test a deployment's API and check every answer.

The load comes from worker processes (multiprocessing), each an asyncio loop over keep-alive
connections on raw sockets with a minimal HTTP/1.1 client. Switch ids and metric names come from
the API's discovery endpoints. The report goes to stdout (text, or one JSON object with --json),
progress and diagnostics to stderr. Exit status: 0, 1 when a threshold failed, 2 for a bad
option, 3 when nothing answers at the URL.
"""

from __future__ import annotations

import argparse
import logging
import sys

from telemetry_stack.bench.options import DEFAULT_DURATION, DEFAULT_URL

HELP = "Load-test the API (GetMetric/ListMetrics mix), check the answers, report rates and latency."

EPILOG = """\
The load comes from worker processes (multiprocessing), each an asyncio event loop over raw
keep-alive sockets; every 200 answer is parsed and checked. Its own ceiling, measured with
--stub (a trivial endpoint on loopback) on a 2-core machine shared with that endpoint: a median
of about 14,000 checked req/s (runs from 8,500 to 16,000) at 55-70 us of CPU per request, so
one core sends 15,000-18,000 req/s: 5 to 7 times what the API answers on that machine.
On the server's own cores it takes about 110 us of CPU per request from the server (wrk about
40), so there it measures the API at about 0.7x of wrk's figure: load from another machine, or
use --engine wrk, to see the server's full capacity.

Exit status: 0 passed, 1 a threshold failed, 2 bad option, 3 nothing answers at --url."""

logger = logging.getLogger(__name__)

EXIT_THRESHOLD, EXIT_UNREACHABLE = 1, 3

OPTIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("--url", "URL", DEFAULT_URL, "the API's base URL (default %(default)s)"),
    ("--concurrency", "N", "32", "connections kept busy at once (default %(default)s)"),
    ("--processes", "N", None, "load-generating processes (default: cores, at most N connections)"),
    ("--duration", "SECONDS", None, f"measured time (default {DEFAULT_DURATION:g} s)"),
    ("--requests", "N", None, "measured requests instead of a duration (both: first reached)"),
    ("--warmup", "SECONDS", "1", "unmeasured load before measuring (default %(default)s)"),
    ("--timeout", "SECONDS", "5", "per request; a later answer counts as a timeout (default 5)"),
    ("--mix", "KIND=W,...", "getmetric=8,listmetrics=2", "request weights (default %(default)s)"),
    ("--list-size", "N", "3", "metrics per ListMetrics request, drawn at random (default 3)"),
    ("--seed", "N", None, "seed of the random requests (default: a new one each run)"),
    ("--switch-ids", "A,B", None, "ask for these switches instead of discovering them"),
    ("--metric-names", "A,B", None, "ask for these metrics instead of discovering them"),
    ("--max-error-rate", "RATE", None, "threshold: fail above this share of errors (0.01 or 1%%)"),
    ("--max-p99-ms", "MS", None, "threshold: fail when p99 latency exceeds MS milliseconds"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``bench``."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for option, metavar, default, text in OPTIONS:
        parser.add_argument(option, metavar=metavar, default=default, help=text)
    parser.add_argument(
        "--engine",
        choices=("python", "wrk"),
        default="python",
        help="python (default: checks every answer) or wrk (pure throughput, needs wrk on PATH)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    parser.add_argument(
        "--stub",
        action="store_true",
        help="load a trivial built-in endpoint on loopback instead of --url: the generator's "
        "own ceiling",
    )


class ProgressLine:
    """Print one progress line per second on stderr (in place on a terminal)."""

    def __init__(self, duration: float | None, warmup: float) -> None:
        self.planned = f"/{warmup + duration:.0f}" if duration is not None else ""
        self.last = (0.0, 0)
        self.tty = sys.stderr.isatty()

    def __call__(
        self, elapsed: float, measuring: bool, sent: int, requests: int, failed: int
    ) -> None:
        """Show the rate of the last second and the measured counts so far."""
        then, before = self.last
        rate = (sent - before) / (elapsed - then) if elapsed > then else 0.0
        self.last = (elapsed, sent)
        phase = "measuring" if measuring else "warming up"
        line = (
            f"bench {elapsed:3.0f}{self.planned} s  {phase}  {rate:8,.0f} req/s  "
            f"{requests:,} requests  {failed:,} errors"
        )
        sys.stderr.write(f"\r{line}\x1b[K" if self.tty else line + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        """End the line that a terminal shows in place."""
        if self.tty:
            sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    """Run the bench; return 0, or the status of what failed."""
    from telemetry_common.logs import configure_logging
    from telemetry_common.settings import environ
    from telemetry_stack.bench import options as bench_options
    from telemetry_stack.bench.catalog import Unreachable, discover
    from telemetry_stack.bench.report import build, render, to_json
    from telemetry_stack.bench.runner import run_load
    from telemetry_stack.bench.stub import start_stub
    from telemetry_stack.bench.wrk import run_wrk

    configure_logging({"TELEMETRY_LOG_LEVEL": "WARNING", **environ()})
    stub = None
    if args.stub:
        args.url, stub = start_stub()
    try:
        settings = bench_options.resolve(args)
        try:
            catalog = discover(settings)
        except Unreachable as exc:
            logger.error("%s", exc)
            return EXIT_UNREACHABLE
        latency = None
        if args.engine == "wrk":
            tally, latency = run_wrk(settings, catalog)
        else:
            progress = ProgressLine(settings.duration, settings.warmup)
            tally = run_load(settings, catalog, (lambda *_: None) if args.quiet else progress)
            if not args.quiet:
                progress.end()
    finally:
        if stub is not None:
            stub.terminate()
            stub.join(5)
    report = build(settings, catalog, tally, latency)
    print(to_json(report) if args.json else render(report), flush=True)
    failed = [item["verdict"] for item in report["thresholds"] if not item["passed"]]
    for verdict in failed:
        logger.error("threshold failed: %s", verdict)
    return EXIT_THRESHOLD if failed else 0
