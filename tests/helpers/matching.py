"""Compare the API's answers with what Redis holds for the generation they name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from telemetry_common.keys import Keys

Get = Callable[[str], requests.Response]


def same_generation(
    client: Any, keys: Keys, answer: requests.Response, *commands: tuple[Any, ...]
) -> list[Any] | None:
    """Return ``commands``' results read in one transaction, if Redis holds the answer's generation.

    ``client`` is a redis.Redis or a RedisCluster (its one-slot transaction).
    """
    pipe = client.pipeline(transaction=True)
    pipe.hget(keys.meta, "generation")
    for name, *args in commands:
        getattr(pipe, name)(*args)
    generation, *results = pipe.execute()
    if generation is None or int(generation) != int(answer.headers["X-Telemetry-Generation"]):
        return None
    return list(results)


def get_metric_matches(client: Any, keys: Keys, get: Get) -> bool:
    """Check GetMetric of switch 7's Latency; False when a refresh fell in between."""
    answer = get("/telemetry/GetMetric?switch=7&metric=Latency")
    assert answer.status_code == 200, answer.text
    found = same_generation(client, keys, answer, ("hget", keys.switch("7"), "Latency"))
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
        ("lrange", keys.switches, 0, -1),
        ("lrange", keys.metric("CpuUsage"), 0, -1),
        ("lrange", keys.metric("Latency"), 0, -1),
    )
    if found is None:
        return False
    rows = [b",".join(row).decode() for row in zip(*found, strict=True)]
    assert answer.text == "\n".join(["switch,CpuUsage,Latency", *rows]) + "\n"
    assert len(rows) == switches
    return True
