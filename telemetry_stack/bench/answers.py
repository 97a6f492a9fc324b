"""The bench's requests, drawn at random from the table of switches and metrics.

Each request is GetMetric of one switch and metric, or ListMetrics of ``list_size`` distinct
metrics in random order; it carries what its answer must start with (see bench_checks).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from urllib.parse import quote

GET_METRIC = "getmetric"
LIST_METRICS = "listmetrics"
KINDS = (GET_METRIC, LIST_METRICS)

_SPECIAL = re.compile(rb'[",\r\n]')
_NUMBER = re.compile(rb"[0-9.eE+-]+")


def csv_cell(text: bytes) -> bytes:
    """Return ``text`` as the API writes it in a CSV cell (quoted when it must be)."""
    if _SPECIAL.search(text) is None:
        return text
    return b'"' + text.replace(b'"', b'""') + b'"'


@dataclass(frozen=True, slots=True)
class Asked:
    """One request: its path and query, and the answer's expected header and first cells."""

    kind: str
    target: bytes  # path and query, without the base path
    header: bytes  # the CSV header line the answer must start with
    columns: int  # asked metrics
    switch: bytes | None = None  # GetMetric's switch as a CSV cell


class Catalog:
    """The switches and metrics to draw requests from, encoded once."""

    def __init__(self, switches: list[str], metrics: list[str], *, discovered: bool) -> None:
        if not switches or not metrics:
            raise ValueError("the catalog needs at least one switch and one metric")
        self.switches = switches
        self.metrics = metrics
        self.discovered = discovered  # rows of ListMetrics are checked against the switches
        self.cells = [csv_cell(s.encode()) for s in switches]
        self.quoted = [quote(s, safe="").encode() for s in switches]
        self.names = [m.encode() for m in metrics]
        # Ids without quotes, commas or line breaks (CSV cells as they are) allow checks on
        # whole tables at once; ids made of number characters allow checking every value too.
        self.plain = not any(_SPECIAL.search(s.encode()) for s in switches)
        self.numeric_ids = all(_NUMBER.fullmatch(s.encode()) for s in switches)


class Requests:
    """Draw requests by kind weights from a catalog."""

    def __init__(
        self, catalog: Catalog, weights: dict[str, float], list_size: int, seed: int | None
    ) -> None:
        self.catalog = catalog
        total = sum(weights.values())
        self.get_share = weights.get(GET_METRIC, 0.0) / total
        self.list_size = min(list_size, len(catalog.metrics))
        self.rng = random.Random(seed)

    def draw(self) -> Asked:
        """Return the next request."""
        rng, catalog = self.rng, self.catalog
        if rng.random() < self.get_share:
            row = rng.randrange(len(catalog.switches))
            name = catalog.names[rng.randrange(len(catalog.names))]
            target = b"/telemetry/GetMetric?switch=%s&metric=%s" % (catalog.quoted[row], name)
            return Asked(GET_METRIC, target, b"switch," + name, 1, catalog.cells[row])
        names = rng.sample(catalog.names, self.list_size)
        joined = b",".join(names)
        target = b"/telemetry/ListMetrics?metrics=" + joined
        return Asked(LIST_METRICS, target, b"switch," + joined, len(names))
