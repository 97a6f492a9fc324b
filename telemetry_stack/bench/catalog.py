"""Find the switches and metrics to ask for: from the API's discovery endpoints, or as given.

When discovery answers with an error (503 while Redis is down, say), the bench still runs, so
that it can report how the deployment fails: on the given ids, else on placeholders, and without
checking ListMetrics rows against the switches. When nothing answers at all, it stops.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from telemetry_stack.bench.answers import Catalog
from telemetry_stack.bench.options import BenchSettings

logger = logging.getLogger(__name__)

FALLBACK_SWITCHES = ("1",)
FALLBACK_METRICS = ("Latency",)


class Unreachable(RuntimeError):
    """Nothing answers HTTP at the API's URL."""


def fetch_list(base: str, plural: str, timeout: float) -> list[str]:
    """Return the ``plural`` list of ``base``/telemetry/``plural`` (asked as JSON)."""
    request = urllib.request.Request(
        f"{base}/telemetry/{plural}", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        items = json.load(response)[plural]
    if not isinstance(items, list) or not items:
        raise ValueError(f"{plural}: expected a non-empty list")
    return [str(item) for item in items]


def discover(settings: BenchSettings) -> Catalog:
    """Return the catalog to draw requests from; raise Unreachable when nothing answers."""
    switches, metrics = list(settings.switch_ids), list(settings.metric_names)
    discovered = not switches
    try:
        if not switches:
            switches = fetch_list(settings.url, "switches", settings.timeout)
        if not metrics:
            metrics = fetch_list(settings.url, "metrics", settings.timeout)
    except urllib.error.HTTPError as exc:
        detail = exc.read(200).decode(errors="replace").strip()
        logger.warning("discovery failed (%s %s); the run goes on without it", exc.code, detail)
        discovered = False
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"nothing answers at {settings.url}: {reason}") from None
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("discovery answered something unexpected (%s); going on without it", exc)
        discovered = False
    if not discovered and not settings.switch_ids:
        switches = switches or list(FALLBACK_SWITCHES)
        logger.warning(
            "asking for switch(es) %s; ListMetrics rows are not checked against the switches",
            ",".join(switches[:5]),
        )
    metrics = metrics or list(FALLBACK_METRICS)
    return Catalog(switches, metrics, discovered=discovered)
