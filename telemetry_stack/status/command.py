"""``telemetry status``: the snapshot, the refreshers and the refresh queue, from Redis alone."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telemetry_common.keys import Keys
from telemetry_common.options import add_setting_options, resolve_settings
from telemetry_common.settings import environ
from telemetry_common.variables import KEY_PREFIX, REDIS_URL

if TYPE_CHECKING:
    import redis

HELP = "Show the snapshot's generation and age, the refreshers and the refresh queue."
EPILOG = (
    "Everything is read from Redis. Exit status: 0 when a fresh snapshot exists, 1 when there "
    "is none or Redis does not answer (within about a second), 2 on a bad setting."
)
SETTINGS = (REDIS_URL, KEY_PREFIX)
TIMEOUT = 0.5  # seconds per Redis call, without retries: a dead Redis is reported at once


@dataclass(frozen=True)
class StatusSettings:
    """Where to look: the Redis URL and the key prefix."""

    redis_url: str = REDIS_URL.value
    key_prefix: str = KEY_PREFIX.value

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StatusSettings:
        """Read the settings from ``env``; raise ConfigError naming a bad variable and value."""
        return cls(REDIS_URL.read(env), KEY_PREFIX.read(env))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the Redis options and ``--json``."""
    add_setting_options(parser, SETTINGS)
    parser.add_argument("--json", action="store_true", help="print one JSON object, for scripts")
    parser.epilog = EPILOG


def ago(seconds: float | None) -> str:
    """Return ``seconds`` ago in words a person reads at a glance: ``4.2 s ago``, ``3 min ago``."""
    if seconds is None:
        return "never"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.1f} s ago"


def render(report: dict[str, Any]) -> str:
    """Return the report as a few aligned lines."""
    snap, ref, queue = report["snapshot"], report["refresher"], report["queue"]
    if snap is None:
        first = "none: no fresh snapshot in Redis (never written, or expired)"
    else:
        first = (
            f"generation {snap['generation']}, {snap['age']:.1f} s old, expires in "
            f"{snap['expires_in']:.1f} s ({snap['switches']} switches x {snap['metrics']} "
            f"metrics), id {snap['snapshot'] or 'none'}"
        )
    beating = ", ".join(f"{p['name']} ({p.get('role', '?')})" for p in ref["processes"])
    leader = f"leader {ref['leader']}" if ref["leader"] else "no leader"
    error = ago(ref["last_error_ago"])
    if ref["last_error"]:
        error += f" ({ref['last_error_kind']}): {ref['last_error']}"
    counts = ", ".join(f"{n} {r}" for r, n in ref["refreshes"].items())
    lines = [
        f"snapshot    {first}",
        f"refreshers  {leader}; {len(ref['processes'])} beating"
        + (f": {beating}" if beating else ""),
        f"            state {ref['state'] or 'unknown'}; refreshes {counts}",
        f"            last success {ago(ref['last_success_ago'])}; last error {error}",
        f"fencing     {_fencing(report['fence'], ref)}",
        f"queue       {queue['name']}: {queue['queued']} queued, {queue['started']} running, "
        f"{queue['workers']} workers; refresh job {queue['refresh_job'] or 'none'}"
        + "".join(f"; hand-over job {job}" for job in queue["handover_jobs"]),
    ]
    return "\n".join(lines)


def _fencing(fence: dict[str, Any], ref: dict[str, Any]) -> str:
    """Return the fencing line: the last write's token, and the writes discarded as older."""
    if fence["token"] is None:
        text = f"no write recorded; {fence['issued']} tokens issued"
    else:
        text = f"last write token {fence['token']} of {fence['issued']} issued"
    fenced = ref["refreshes"].get("fenced", 0)
    text += f"; {fenced} write{'' if fenced == 1 else 's'} fenced (discarded as older)"
    if fenced and ref["last_fenced"]:
        text += f", last {ago(ref['last_fenced_ago'])} ({ref['last_fenced_reason']})"
    return text


def run(args: argparse.Namespace, *, client: redis.Redis | None = None) -> int:
    """Print the status; return 0 when a fresh snapshot exists, else 1."""
    import redis

    from telemetry_common.redis_client import connect, redacted
    from telemetry_stack.status.report import collect

    settings = resolve_settings(args, dict(environ()), SETTINGS, StatusSettings.from_env)
    if client is None:
        client = connect(settings.redis_url, timeout=TIMEOUT, retries=0)
    try:
        report = collect(client, Keys(settings.key_prefix))
    except redis.RedisError as exc:
        said = f"telemetry status: Redis at {settings.redis_url} does not answer: {exc}"
        print(redacted(said), file=sys.stderr)
        return 1
    print(redacted(json.dumps(report) if args.json else render(report)))
    return 0 if report["fresh"] else 1
