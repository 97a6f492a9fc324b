"""One tick's answer, rendered once and shared by every request of that tick."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.http import http_date

TICK_HEADER = "X-Telemetry-Tick"
TICK_TIME_HEADER = "X-Telemetry-Tick-Time"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The CSV of one tick with its validators; published by a single reference assignment."""

    tick: int
    tick_time: float
    tag: str  # the entity tag without quotes: "<run-id>-<tick>"
    body: bytes
    headers: tuple[tuple[str, str], ...]


def make_snapshot(run_id: str, tick: int, tick_time: float, body: bytes) -> Snapshot:
    """Return the snapshot of ``tick`` with every response header computed up front."""
    tag = f"{run_id}-{tick}"
    headers = (
        ("ETag", f'"{tag}"'),
        (TICK_HEADER, str(tick)),
        (TICK_TIME_HEADER, f"{tick_time:.3f}"),
        ("Last-Modified", http_date(tick_time)),
        ("Cache-Control", "no-cache"),
    )
    return Snapshot(tick=tick, tick_time=tick_time, tag=tag, body=body, headers=headers)
