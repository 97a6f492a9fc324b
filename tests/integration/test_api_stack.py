"""`telemetry api` (2 workers) over a real generator, refresher and Redis: answers and outages."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
import requests

from refresher_worker.parser import parse_counters
from telemetry_common.keys import Keys
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port, matching, wait_for

pytestmark = pytest.mark.integration

PREFIX = "itest"
KEYS = Keys(PREFIX)


class Stack:
    """The three services on one private Redis."""

    def __init__(self, server: RedisServer) -> None:
        self.generator_url = f"http://127.0.0.1:{free_port()}"
        self.api_url = f"http://127.0.0.1:{free_port()}"
        common = {"TELEMETRY_REDIS_URL": server.url, "TELEMETRY_KEY_PREFIX": PREFIX}
        self.services = [
            Service(
                ["generator", "--bind", self.generator_url.removeprefix("http://")],
                env={"TELEMETRY_SWITCHES": "40", "TELEMETRY_TICK_INTERVAL": "0.5"},
            ),
            Service(
                ["refresher"],
                env={
                    **common,
                    "TELEMETRY_SOURCE_URL": f"{self.generator_url}/counters",
                    "TELEMETRY_REFRESH_INTERVAL": "1",
                    "TELEMETRY_TTL": "4",
                },
            ),
            Service(
                ["api", "--bind", self.api_url.removeprefix("http://"), "--workers", "2"],
                env=common,
            ),
        ]

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.api_url + path, timeout=5, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


@pytest.fixture
def stack(private_redis: RedisServer) -> Iterator[Stack]:
    started = Stack(private_redis)
    try:
        started.services[0].wait_http(f"{started.generator_url}/healthz")
        started.services[2].wait_http(f"{started.api_url}/readyz", timeout=30)
        yield started
    finally:
        started.stop()


def test_answers_equal_redis_for_the_generation_they_name(
    stack: Stack, private_redis: RedisServer
) -> None:
    client = redis.Redis.from_url(private_redis.url)

    get = stack.get
    get_metric_matches = lambda: matching.get_metric_matches(client, KEYS, get)  # noqa: E731
    list_metrics_match = lambda: matching.list_metrics_match(  # noqa: E731
        client, KEYS, get, "CpuUsage,Latency,CpuUsage", 40
    )

    wait_for(get_metric_matches, timeout=10, message="GetMetric equal to Redis")
    wait_for(list_metrics_match, timeout=10, message="ListMetrics equal to Redis")
    body = stack.get("/telemetry/GetMetric?switch=7&metric=Latency&format=json").json()
    assert body["switch"] == "7" and isinstance(body["value"], int | float)
    assert stack.get("/telemetry/metrics").text.splitlines()[0] == "metric"


def test_redis_outage_is_a_fast_503_and_heals_without_a_restart(
    stack: Stack, private_redis: RedisServer
) -> None:
    paths = [
        "/telemetry/GetMetric?switch=1&metric=CpuUsage",
        "/telemetry/ListMetrics?metrics=Latency",
        "/readyz",
    ]
    private_redis.stop()
    statuses = []
    for path in paths * 3:
        started = time.monotonic()
        answer = stack.get(path)
        assert time.monotonic() - started < 1.0, path
        statuses.append(answer.status_code)
        assert answer.headers["Retry-After"]
    assert set(statuses) == {503}
    assert stack.get("/healthz").status_code == 200

    private_redis.start()
    # Redis came back empty (it persists nothing): put a snapshot back at once, as a persistent
    # Redis would, so that the wait below is on the API's reconnection, not the refresher's.
    table = parse_counters(requests.get(f"{stack.generator_url}/counters", timeout=5).content)
    write_snapshot(redis.Redis.from_url(private_redis.url), KEYS, table, ttl=10)

    seen: list[int] = []

    def healed() -> bool:
        answers = [stack.get(path).status_code for path in paths]
        seen.extend(answers)
        return answers == [200] * len(paths)

    # The API reconnects by itself, without a restart, answering 503 until it has.
    wait_for(healed, timeout=20, message="200 after Redis restart")
    assert set(seen) <= {200, 503}, seen
    first = int(stack.get(paths[0]).headers["X-Telemetry-Generation"])

    def refresher_is_back() -> bool:
        return int(stack.get(paths[0]).headers["X-Telemetry-Generation"]) > first

    wait_for(refresher_is_back, timeout=15, interval=0.2, message="the refresher's next snapshot")
    assert "Traceback" not in stack.services[2].output()
