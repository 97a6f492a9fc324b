"""How a bench run is split over worker processes: one plan per process."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from telemetry_stack.bench.answers import Catalog
from telemetry_stack.bench.options import BenchSettings


@dataclass(frozen=True)
class Plan:
    """One worker's share of the run."""

    host: str
    port: int
    tls: bool
    base: str  # base path of the API, "" at the root
    connections: int
    warmup: float
    duration: float | None
    quota: int | None  # measured requests to send, None: until the duration ends
    timeout: float
    catalog: Catalog
    weights: dict[str, float]
    list_size: int
    seed: int | None


def shares(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` whole shares that differ by at most one."""
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def plans(settings: BenchSettings, catalog: Catalog) -> list[Plan]:
    """Return one plan per worker process."""
    parts = urlsplit(settings.url)
    tls = parts.scheme == "https"
    connections = shares(settings.concurrency, settings.processes)
    quotas: list[int | None] = [None] * settings.processes
    if settings.requests is not None:
        quotas = [settings.requests * n // settings.concurrency for n in connections]
        quotas[0] = (quotas[0] or 0) + settings.requests - sum(q or 0 for q in quotas)
    return [
        Plan(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (443 if tls else 80),
            tls=tls,
            base=parts.path.rstrip("/"),
            connections=connections[index],
            warmup=settings.warmup,
            duration=settings.duration,
            quota=quotas[index],
            timeout=settings.timeout,
            catalog=catalog,
            weights=dict(settings.mix),
            list_size=settings.list_size,
            seed=None if settings.seed is None else settings.seed + index,
        )
        for index in range(settings.processes)
    ]
