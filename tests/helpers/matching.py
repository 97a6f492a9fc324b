"""Compare the API's answers with what Redis holds for the generation they name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from telemetry_common.keys import Generation, Keys

Get = Callable[[str], requests.Response]
Commands = Callable[[Generation], list[tuple[Any, ...]]]


def same_generation(
    client: Any, keys: Keys, answer: requests.Response, commands: Commands
) -> list[Any] | None:
    """Return ``commands``' results on the answer's generation, if Redis still holds it whole.

    ``client`` is a redis.Redis or a RedisCluster (its one-slot transaction).
    """
    at = keys.at(answer.headers["X-Telemetry-Generation"])
    pipe = client.pipeline(transaction=True)
    pipe.exists(at.meta)  # a generation's keys all expire at one instant
    for name, *args in commands(at):
        getattr(pipe, name)(*args)
    alive, *results = pipe.execute()
    return list(results) if alive else None


def get_metric_matches(client: Any, keys: Keys, get: Get) -> bool:
    """Check GetMetric of switch 7's Latency; False when a refresh fell in between."""
    answer = get("/telemetry/GetMetric?switch=7&metric=Latency")
    assert answer.status_code == 200, answer.text
    found = same_generation(client, keys, answer, lambda at: [("hget", at.switch("7"), "Latency")])
    if found is None:
        return False
    assert answer.text == f"switch,Latency\n7,{found[0].decode()}\n"
    return True


def list_metrics_match(client: Any, keys: Keys, get: Get, asked: str, switches: int) -> bool:
    """Check ListMetrics of ``asked`` (CpuUsage and Latency, in that order) for every switch."""
    answer = get(f"/telemetry/ListMetrics?metrics={asked}")
    assert answer.status_code == 200, answer.text
    found = same_generation(
        client,
        keys,
        answer,
        lambda at: [
            ("lrange", at.switches, 0, -1),
            ("lrange", at.metric("CpuUsage"), 0, -1),
            ("lrange", at.metric("Latency"), 0, -1),
        ],
    )
    if found is None:
        return False
    rows = [b",".join(row).decode() for row in zip(*found, strict=True)]
    assert answer.text == "\n".join(["switch,CpuUsage,Latency", *rows]) + "\n"
    assert len(rows) == switches
    return True
