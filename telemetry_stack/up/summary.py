"""What ``telemetry up`` prints once the stack is ready: what runs where, and how to try it."""

from __future__ import annotations

import logging
import shlex
import shutil
from urllib.parse import urlencode

from telemetry_common.keys import Keys
from telemetry_common.platforms import wsgi_workers
from telemetry_common.redis_client import redacted
from telemetry_common.redis_urls import parse
from telemetry_stack.up.health import get_json
from telemetry_stack.up.settings import UpSettings

logger = logging.getLogger(__name__)

NO_CLI = "             (no redis-cli on PATH: it comes with Redis, e.g. Debian's redis-tools)"


def examples(api_url: str) -> tuple[str, list[str]]:
    """Return one switch id and up to two metric names that the API knows now."""
    try:
        switches = get_json(f"{api_url}/telemetry/switches")["switches"]
        metrics = get_json(f"{api_url}/telemetry/metrics")["metrics"]
        if switches and metrics:
            return str(switches[0]), [str(name) for name in metrics[:2]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.debug("no examples from the API: %s", exc)
    return "1", ["Latency"]


def render(settings: UpSettings, redis_url: str, redis_kind: str) -> str:
    """Return the summary: URLs of the API, generator and Redis, with commands to try."""
    api = settings.api_url
    switch, metrics = examples(api)
    get_metric = f"{api}/telemetry/GetMetric?" + urlencode({"switch": switch, "metric": metrics[0]})
    list_metrics = f"{api}/telemetry/ListMetrics?" + urlencode(
        {"metrics": ",".join(metrics)}, safe=","
    )
    keys = Keys(settings.key_prefix)
    key = keys.at("<generation>").switch(switch)
    redis_url = redacted(redis_url)  # a password given in the environment stays there
    refreshers = f"{settings.refreshers} refresher" + ("s" if settings.refreshers > 1 else "")
    count = wsgi_workers(settings.api_workers)  # one on Windows
    workers = f"{count} worker" + ("s" if count > 1 else "")
    lines = [
        "",
        f"Switch telemetry is up: {settings.switches} switches, {refreshers}, API with {workers}.",
        "",
        f"  API        {api}",
        f"             curl {shlex.quote(get_metric)}",
        f"             curl {shlex.quote(list_metrics)}",
        f"  generator  {settings.generator_url}/counters",
        f"  Redis      {redis_url}  ({redis_kind})",
        *(
            [
                f"             redis-cli -u {shlex.quote(redis_url)} GET {keys.current}",
                f"             redis-cli -u {shlex.quote(redis_url)} HGETALL {shlex.quote(key)}",
            ]
            if parse(redis_url).kind == "standalone"  # redis-cli knows no sentinel/cluster URL
            else [f"{'':13}(ports and failover command above; keys {keys.current}, {key})"]
        ),
        *([] if shutil.which("redis-cli") else [NO_CLI]),
        "",
        "Logs follow on stderr. Press Ctrl-C to stop everything.",
        "",
    ]
    return "\n".join(lines)
