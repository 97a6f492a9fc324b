"""What the known metrics mean: unit, kind and a one-line description, shared by every role.

The generator produces these metrics; the API names them for Prometheus and the dashboard
shows their units. A source may send other metrics too: they have no entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a metric moves from one tick to the next."""

    GAUGE = "gauge"  # goes up and down within its bounds
    COUNTER = "counter"  # a running total that never decreases


@dataclass(frozen=True)
class Meaning:
    """One metric's unit (as people write it), kind and description."""

    name: str
    unit: str
    kind: Kind
    help: str


MEANINGS: tuple[Meaning, ...] = (
    Meaning("BandwidthConsumption", "Mbit/s", Kind.GAUGE, "Bandwidth in use"),
    Meaning("CpuUsage", "%", Kind.GAUGE, "CPU busy time"),
    Meaning("MemoryUsage", "%", Kind.GAUGE, "Memory in use"),
    Meaning("Latency", "ms", Kind.GAUGE, "Forwarding latency"),
    Meaning("PacketLoss", "%", Kind.GAUGE, "Packets lost"),
    Meaning("Temperature", "degC", Kind.GAUGE, "Chassis temperature"),
    Meaning("SuccessfulRequests", "requests", Kind.COUNTER, "Requests answered successfully"),
    Meaning("FailedRequests", "requests", Kind.COUNTER, "Requests that failed"),
)

# Each unit as Prometheus names it (its base units: seconds, bytes), and the exact factor that
# turns a value into it: a whole multiplier and a power of ten, (1, 0) to keep the value as it
# is. A count has no unit.
PROMETHEUS_UNITS: dict[str, tuple[str, tuple[int, int]]] = {
    "Mbit/s": ("bytes_per_second", (125, 3)),  # 10**6 / 8
    "%": ("percent", (1, 0)),
    "ms": ("seconds", (1, -3)),
    "degC": ("celsius", (1, 0)),
    "requests": ("", (1, 0)),
}

_BY_NAME = {meaning.name: meaning for meaning in MEANINGS}


def meaning_of(name: str) -> Meaning | None:
    """Return what the metric ``name`` means, or None for a metric this catalogue lacks."""
    return _BY_NAME.get(name)
