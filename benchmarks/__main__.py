"""Run every benchmark of the project in one run and print one table of figures and ratios.

Usage: python -m benchmarks [--quick] [--rounds N] [--seconds N] [--connections N]

Sections, in order: the generator (tick time, /counters against hello-world), the refresh
(parse + write against Redis's own execution), the API (against its minimal twins, against a
single-process in-memory cache, by worker processes) and the load generator (telemetry bench's
own ceiling, and beside wrk). HTTP loads come from wrk, run interleaved; ratios are medians of
runs made side by side. Read ratios more than absolute figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from benchmarks import suite
from benchmarks.suite import LoadError, NoWrk, Row, machine, render

logger = logging.getLogger("benchmarks")


def options(argv: list[str] | None) -> argparse.Namespace:
    """Parse the options; --quick sets shorter and fewer runs."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 rounds of 2 s, 1 for the load generator's rows (about 2 minutes)",
    )
    parser.add_argument(
        "--rounds", type=int, help="runs per case, interleaved (default 5; quick 2)"
    )
    parser.add_argument("--seconds", type=int, help="seconds per load run (default 5; quick 2)")
    parser.add_argument("--connections", type=int, default=32, help="connections (default 32)")
    args = parser.parse_args(argv)
    args.rounds = max(1, args.rounds or (2 if args.quick else 5))
    args.seconds = max(1, args.seconds or (2 if args.quick else 5))
    return args


def collect(args: argparse.Namespace) -> tuple[list[Row], list[str]]:
    """Run every section; return their rows and what was skipped or failed."""
    load = (args.rounds, args.seconds, args.connections)
    once = (1 if args.quick else args.rounds, args.seconds, args.connections)  # to fit 2 minutes
    rows: list[Row] = []
    failures: list[str] = []

    def section(name: str, make) -> None:  # type: ignore[no-untyped-def]
        began = time.monotonic()
        logger.info("%s ...", name)
        try:
            rows.extend(make())
        except NoWrk as exc:
            logger.warning("%s skipped: %s", name, exc)
            failures.append(f"{name}: skipped, {exc}")
        except (LoadError, RuntimeError, OSError) as exc:
            logger.error("%s failed, its rows are missing: %s", name, exc)
            failures.append(f"{name}: failed, {str(exc).splitlines()[0]}")
        logger.info("%s done in %.0f s", name, time.monotonic() - began)

    section("generator tick", lambda: suite.tick_rows(3 if args.quick else 7))
    section("generator serving", lambda: suite.serving_rows(*load))
    section("refresh", lambda: suite.refresh_rows(1 if args.quick else 3))
    with suite.api_servers() as bases:
        section("API vs twins", lambda: suite.twin_rows(bases, *load, not args.quick))
        section("API vs cache, scaling", lambda: suite.cache_and_scaling_rows(bases, *load))
        section("load generator", lambda: suite.engine_rows(bases["api2"], *once))
    section("load generator ceiling", lambda: suite.ceiling_rows(*once))
    return rows, failures


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print the table; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    args = options(argv)
    began = time.monotonic()
    rows, failures = collect(args)
    mode = "--quick" if args.quick else "full"
    print(f"python -m benchmarks {mode}: {machine()}")
    print(
        f"wrk -t1 -c{args.connections}, {args.rounds} round(s) of {args.seconds} s per case, "
        f"interleaved; medians; total {time.monotonic() - began:.0f} s\n"
    )
    print(render(rows))
    for failure in failures:
        print(f"\nmissing: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
