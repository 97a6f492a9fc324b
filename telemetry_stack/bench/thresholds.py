"""Thresholds of a bench run, as k6 has them: each a limit on one figure, passed or failed."""

from __future__ import annotations

from dataclasses import dataclass

from telemetry_stack.bench.options import BenchSettings
from telemetry_stack.bench.stats import Tally, error_rate, latency_ms


@dataclass(frozen=True)
class Verdict:
    """One threshold: what was measured against its limit."""

    name: str
    value: float | None
    limit: float
    unit: str = ""
    scale: float = 1.0  # shown as value * scale, e.g. 100 for a percentage

    @property
    def passed(self) -> bool:
        """Return whether the measured value is within the limit (no value: failed)."""
        return self.value is not None and self.value <= self.limit

    def describe(self) -> str:
        """Return e.g. ``p99 latency 12.3 ms > limit 0.001 ms``."""
        shown = "none" if self.value is None else f"{self.value * self.scale:.4g}{self.unit}"
        sign = "<=" if self.passed else ">"
        return f"{self.name} {shown} {sign} limit {self.limit * self.scale:g}{self.unit}"


Latency = dict[str, float | None]  # min, p50, p90, p99, max in ms


def verdicts(
    settings: BenchSettings, tally: Tally, latency: Latency | None = None
) -> list[Verdict]:
    """Return the verdict of each threshold that was set."""
    found = []
    if settings.max_error_rate is not None:
        rate = error_rate(tally) if tally.requests else None
        found.append(Verdict("error rate", rate, settings.max_error_rate, " %", 100.0))
    if settings.max_p99_ms is not None:
        p99 = (latency or latency_ms(tally.latency_us))["p99"]
        found.append(Verdict("p99 latency", p99, settings.max_p99_ms, " ms"))
    return found
