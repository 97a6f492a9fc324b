"""The metric catalogue: what each switch reports, with its unit, bounds and step size."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telemetry_common.catalogue import MEANINGS, Kind

__all__ = ["CATALOGUE", "COUNTER_MAX", "NAME_PATTERN", "Kind", "Metric", "metric_names"]

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Metric:
    """One metric: its per-tick step is uniform in [-step, step] (gauge) or [0, step] (counter)."""

    name: str
    unit: str
    kind: Kind
    low: float
    high: float
    initial: tuple[float, float]
    step: float
    decimals: int

    def __post_init__(self) -> None:
        if not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(f"metric name {self.name!r} must match {NAME_PATTERN.pattern}")
        if not self.low <= self.initial[0] <= self.initial[1] <= self.high:
            raise ValueError(f"{self.name}: initial range must lie within its bounds")
        if not 0 < self.step <= (self.high - self.low) / 20:
            raise ValueError(f"{self.name}: step must be positive and small beside the bounds")
        if self.kind is Kind.COUNTER and (self.decimals != 0 or self.low != int(self.low)):
            raise ValueError(f"{self.name}: counters are whole numbers")
        if not 0 <= self.decimals <= 6:
            raise ValueError(f"{self.name}: decimals must be within 0..6")


# Counters stop at 10**15, below 2**53, so a float64 holds every value exactly.
COUNTER_MAX = 10**15

# How each metric moves: bounds, initial range, step, decimals. Its unit and kind are in
# telemetry_common.catalogue, which the API reads too.
_MOTION: dict[str, tuple[float, float, tuple[float, float], float, int]] = {
    "BandwidthConsumption": (0, 100_000, (100, 5_000), 50, 2),
    "CpuUsage": (0, 100, (5, 60), 2, 2),
    "MemoryUsage": (0, 100, (20, 70), 1, 2),
    "Latency": (0, 1_000, (0.5, 20), 0.5, 3),
    "PacketLoss": (0, 100, (0, 0.5), 0.05, 3),
    "Temperature": (0, 110, (35, 55), 0.5, 2),
    "SuccessfulRequests": (0, COUNTER_MAX, (0, 1e6), 500, 0),
    "FailedRequests": (0, COUNTER_MAX, (0, 1e4), 5, 0),
}

CATALOGUE: tuple[Metric, ...] = tuple(
    Metric(meaning.name, meaning.unit, meaning.kind, *_MOTION[meaning.name]) for meaning in MEANINGS
)


def metric_names(catalogue: tuple[Metric, ...] = CATALOGUE) -> list[str]:
    """Return the metric names in column order."""
    return [metric.name for metric in catalogue]
