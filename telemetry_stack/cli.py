"""The ``telemetry`` console script: one subcommand per role."""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from telemetry_common.redis_urls import redacted
from telemetry_common.settings import ConfigError

# Each module defines HELP (one line), add_arguments(parser) and run(args) -> exit status.
# Modules are imported to build --help, so they keep heavy imports inside run().
SUBCOMMANDS: dict[str, str] = {
    "generator": "generator_service.cli",
    "refresher": "refresher_worker.cli",
    "api": "api_service.cli",
    "up": "telemetry_stack.up.command",
    "status": "telemetry_stack.status.command",
    "redis-acl": "telemetry_stack.acl",
    "bench": "telemetry_stack.bench.command",
    "compose": "telemetry_stack.compose.command",
}


def _modules() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for name, module_name in SUBCOMMANDS.items():
        try:
            found[name] = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="telemetry",
        description="Switch telemetry: live switch metrics served from a shared Redis cache. "
        "Every option also reads a TELEMETRY_* environment variable (see each --help).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in _modules().items():
        child = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(child)
        child.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``telemetry`` command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args._run(args)
    except ConfigError as exc:
        said = f"telemetry {args.command}: configuration error: {exc}"
        print(redacted(said), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
