"""Name each metric of the snapshot as a Prometheus family, by Prometheus's conventions.

``CpuUsage`` (a gauge in %) becomes ``telemetry_switch_cpu_usage_percent``, the counter
``SuccessfulRequests`` becomes ``telemetry_switch_successful_requests_total``; a metric the
catalogue does not know keeps its name in snake case, with no unit and an unknown type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from telemetry_common.catalogue import PROMETHEUS_UNITS, Kind, meaning_of

NAMESPACE = "telemetry_switch_"
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class Family:
    """How one metric of the snapshot is exposed."""

    metric: str  # the name in the snapshot
    name: str  # the family's name, without a counter's _total
    kind: str  # "gauge", "counter" or "unknown"
    unit: str  # the unit word at the end of the name, or ""
    help: str

    @property
    def sample(self) -> str:
        """Return the name each sample carries (a counter's ends with _total)."""
        return self.name + "_total" if self.kind == Kind.COUNTER else self.name


def snake(name: str) -> str:
    """Return ``name`` in snake case: ``BandwidthConsumption`` becomes bandwidth_consumption."""
    words = _WORD_BREAK.sub("_", name).lower()
    return _NOT_WORD.sub("_", words).strip("_") or "metric"


@lru_cache(maxsize=1024)
def family_of(metric: str) -> Family:
    """Return the family that exposes the snapshot's metric ``metric``."""
    meaning = meaning_of(metric)
    base = NAMESPACE + snake(metric)
    if meaning is None:
        return Family(metric, base, "unknown", "", f"{metric} from the source (no unit known)")
    unit = PROMETHEUS_UNITS.get(meaning.unit, "")
    name = f"{base}_{unit}" if unit and not base.endswith("_" + unit) else base
    text = f"{meaning.help} ({meaning.unit}), per switch, from {metric} of the latest snapshot"
    return Family(metric, name, str(meaning.kind), unit, text)


def families_of(metrics: list[str]) -> list[Family]:
    """Return one family per metric in order, leaving out a name taken by an earlier one."""
    seen: set[str] = set()
    chosen = []
    for metric in metrics:
        family = family_of(metric)
        if not {family.name, family.sample} & seen:
            seen |= {family.name, family.sample}
            chosen.append(family)
    return chosen
