"""The API app on a given client, and a known snapshot written with the real writer."""

from __future__ import annotations

import time
from typing import Any

import redis
from flask import Flask

from api_service import create_app
from api_service.config import ApiConfig
from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo, Table
from telemetry_common.writer import write_snapshot

SWITCHES = ["1", "2", "sw-3"]
METRICS = ["CpuUsage", "Latency", "PacketLoss", "SuccessfulRequests"]
ROWS = [
    [b"12.50", b"0.812", b"0.000", b"1200"],
    [b"99.00", b"15.250", b"0.125", b"7"],
    [b"0.75", b"3.000", b"1.500", b"123456789012"],
]
AGE = 2.0  # seconds between the source's tick and the write


def make_app(client: Any, **settings: Any) -> Flask:
    """Return the API app on ``client`` with the given settings over the defaults."""
    app = create_app(ApiConfig(**settings), redis=client)
    app.testing = True
    return app


def put_snapshot(
    client: redis.Redis,
    *,
    prefix: str = "telemetry",
    ttl: int = 10,
    switches: list[str] = SWITCHES,
    metrics: list[str] = METRICS,
    rows: list[list[bytes]] = ROWS,
) -> int:
    """Write a snapshot with the real writer; return its generation."""
    table = Table.from_rows(switches, metrics, rows)
    source = SourceInfo(etag='"t1"', tick="1", tick_time=time.time() - AGE)
    return write_snapshot(client, Keys(prefix), table, ttl=ttl, source=source)
