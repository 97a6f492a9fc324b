"""Snapshots for the dashboard's tests, and what they read from its page."""

from __future__ import annotations

import random
from typing import Any

import redis

from tests.helpers import wait_for
from tests.helpers.api import put_snapshot
from tests.helpers.browser import ApiProcess, PageLog

PREFIX = "dash"  # the API processes of the browser tests read this key prefix


METRICS = ["CpuUsage", "Latency", "Temperature", "SuccessfulRequests"]


def table(switches: int, seed: int) -> tuple[list[str], list[list[bytes]]]:
    """Return switch ids and one row of value texts per switch, like the generator's."""
    rng = random.Random(seed)
    ids = [str(n) for n in range(1, switches + 1)]
    rows = [
        [
            b"%.2f" % rng.uniform(0, 100),
            b"%.3f" % rng.uniform(0, 50),
            b"%.2f" % rng.uniform(30, 60),
            b"%d" % rng.randrange(10**9),
        ]
        for _ in ids
    ]
    return ids, rows


def publish(client: redis.Redis, switches: int = 60, seed: int = 1, ttl: int = 60) -> int:
    """Write a snapshot of ``switches`` switches with the real writer; return its generation."""
    ids, rows = table(switches, seed)
    return put_snapshot(client, prefix=PREFIX, ttl=ttl, switches=ids, metrics=METRICS, rows=rows)


def text(page: Any, selector: str) -> str:
    """Return the text of the element ``selector``, stripped."""
    return str(page.locator(selector).text_content()).strip()


def csv_value(answer: Any) -> str:
    """Return the value in a CSV GetMetric answer (``switch,<metric>`` then ``<id>,<value>``)."""
    return str(answer.text.splitlines()[1].split(",")[1])


def wait_for_render(page: Any, generation: int, timeout: float = 20) -> None:
    """Wait until the page has rendered ``generation``, not only shown it in its header."""
    # The header shows the generation as its answer arrives; the page renders it after parsing
    # and its rate and top-N requests, and then names it on <body data-generation>.
    rendered = "document.body.dataset.generation"
    wait_for(lambda: page.evaluate(rendered) == str(generation), timeout, message="the render")


def wait_for_top_sort(page: Any, sort: str, timeout: float = 10) -> None:
    """Wait until the top table shows the API's order for ``sort`` (``-Name`` for descending)."""
    topsort = "document.body.dataset.topSort"
    wait_for(lambda: page.evaluate(topsort) == sort, timeout, message=f"the API's order {sort}")


def open_dashboard(page: Any, api: ApiProcess, generation: int) -> None:
    """Open the page and wait until it has rendered ``generation``, fresh."""
    page.goto(api.url + "/")
    wait_for_render(page, generation)
    assert text(page, "#generation") == str(generation)
    assert text(page, "#state") == "fresh"


def clean(log: PageLog, api: ApiProcess) -> None:
    """Check that the page logged no error and asked nothing of another origin."""
    assert log.errors == []
    assert log.origins == {api.url}, log.origins


def pick(page: Any, metric: str, switch: str) -> None:
    """Show ``metric`` and pick ``switch`` by typing its id, as a user would."""
    page.select_option("#metric", metric)
    page.fill("#pick", switch)
    page.press("#pick", "Enter")
