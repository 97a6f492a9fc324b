"""Metrics of real processes: the API's added up across workers, the refresher's own endpoint."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo, Table
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port, wait_for
from tests.helpers.processes import generator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ROUTE = "/telemetry/GetMetric"
REQUESTS = "telemetry_api_requests_total"
BATCH = 40
MAX_REQUESTS = 2000


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample at ``url`` (a /metrics endpoint), keyed by name and sorted labels."""
    text = requests.get(url, timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def per_worker(directory: Path) -> list[float]:
    """Return each worker's count of 200s of ROUTE, as last written to its counter file."""
    files = defaultdict(list)
    for path in directory.glob("*.db"):  # prometheus-client's <type>_<pid>.db
        files[path.stem.rsplit("_", 1)[1]].append(str(path))
    counts = []
    for paths in files.values():
        served = 0.0
        for family in MultiProcessCollector.merge(paths):
            for s in family.samples:
                if s.name == REQUESTS and s.labels == {"route": ROUTE, "status": "200"}:
                    served += s.value
        counts.append(served)
    return counts


def test_the_api_adds_up_its_workers_requests(private_redis: RedisServer) -> None:
    client = redis.Redis.from_url(private_redis.url)
    table = Table.from_rows(["1", "2"], ["Latency"], [[b"0.5"], [b"1.5"]])
    write_snapshot(client, Keys(), table, ttl=120, source=SourceInfo(tick_time=time.time()))
    client.close()
    bind = f"127.0.0.1:{free_port()}"
    api = Service(
        ["api", "--bind", bind, "--workers", "2"],
        env={"TELEMETRY_REDIS_URL": private_redis.url, "PROMETHEUS_MULTIPROC_DIR": ""},
    )
    try:
        api.wait_http(f"http://{bind}/healthz")
        found = re.search(r"metrics are added up from (\S+)", api.output())
        assert found, api.output()
        directory = Path(found.group(1))
        url = f"http://{bind}{ROUTE}?switch=2&metric=Latency"

        def one(_: int) -> int:  # a new connection each time, so both workers take some
            return requests.get(url, headers={"Connection": "close"}, timeout=5).status_code

        sent = 0
        with ThreadPoolExecutor(8) as pool:
            while True:
                assert set(pool.map(one, range(BATCH))) == {200}
                sent += BATCH
                # each worker hands its counts to its files within half a second
                saved = partial(lambda n: sum(per_worker(directory)) == n, sent)
                wait_for(saved, 10, message=f"{sent} requests saved")
                if len([n for n in per_worker(directory) if n > 0]) >= 2 or sent >= MAX_REQUESTS:
                    break
        assert len([n for n in per_worker(directory) if n > 0]) == 2, f"one worker took all {sent}"
        ages = ("telemetry_api_data_age_seconds_count", ())

        def scraped_all() -> dict | None:  # type: ignore[type-arg]
            # a worker hands over its requests, then its latencies, then its ages: wait for these
            found = samples(f"http://{bind}/metrics")
            return found if found.get(ages) == sent else None

        scraped = wait_for(scraped_all, 10, message=f"the ages of {sent} answers scraped")
        assert scraped[(REQUESTS, (("route", ROUTE), ("status", "200")))] == sent
        latency = "telemetry_api_request_duration_seconds_count"
        assert scraped[(latency, (("route", ROUTE),))] == sent
        assert scraped[("telemetry_api_generation", ())] == 1
    finally:
        assert api.stop() == 0
    assert not directory.exists(), "the metrics directory outlived the API"


def test_a_stopping_worker_saves_its_last_answers(
    private_redis: RedisServer, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(private_redis.url)
    table = Table.from_rows(["1"], ["Latency"], [[b"0.5"]])
    write_snapshot(client, Keys(), table, ttl=120, source=SourceInfo(tick_time=time.time()))
    client.close()
    bind = f"127.0.0.1:{free_port()}"
    env = {"TELEMETRY_REDIS_URL": private_redis.url, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    api = Service(["api", "--bind", bind, "--workers", "2"], env=env)
    try:
        api.wait_http(f"http://{bind}/healthz")
        url = f"http://{bind}{ROUTE}?switch=1&metric=Latency"
        with ThreadPoolExecutor(4) as pool:  # new connections: both workers take some
            statuses = list(pool.map(lambda _: requests.get(url, timeout=5).status_code, range(60)))
        assert statuses == [200] * 60
    finally:  # at once: the last answers are younger than the files' periodic write
        assert api.stop() == 0
    assert sum(per_worker(tmp_path)) == 60


def test_the_refreshers_endpoint_follows_the_source(private_redis: RedisServer) -> None:
    gen, source_url = generator(switches=20, tick="1")
    port = free_port()
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    env = {
        "TELEMETRY_REDIS_URL": private_redis.url,
        "TELEMETRY_SOURCE_URL": source_url,
        "TELEMETRY_REFRESH_INTERVAL": "0.5",
        "TELEMETRY_TTL": "5",
        "TELEMETRY_REFRESHER_METRICS_BIND": f"127.0.0.1:{port}",
        "TELEMETRY_LOG_FORMAT": "json",
    }
    worker = Service(["refresher"], env=env)
    try:
        worker.wait_http(metrics_url)
        before = time.time()

        def refreshed() -> dict | None:  # type: ignore[type-arg]
            found = samples(metrics_url)
            last = found[("telemetry_refresh_last_success_timestamp_seconds", ())]
            return found if found[("telemetry_source_up", ())] == 1 and last > 0 else None

        found = wait_for(refreshed, 20, interval=0.2, message="a successful refresh")
        assert found[("telemetry_refresh_last_success_timestamp_seconds", ())] >= before - 5
        assert found[("telemetry_refresh_rows", ())] == 20
        assert found[("telemetry_refresh_generation", ())] >= 1
        assert found[("telemetry_refresher_leader", ())] == 1
        gen.stop()

        def down() -> dict | None:  # type: ignore[type-arg]
            found = samples(metrics_url)
            return found if found[("telemetry_source_up", ())] == 0 else None

        found = wait_for(down, 20, interval=0.2, message="telemetry_source_up 0")
        unreachable = ("telemetry_refresh_errors_total", (("kind", "source_unreachable"),))
        assert found[unreachable] >= 1
    finally:
        gen.stop()
        worker.stop()
    lines = [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
    events = {line.get("event"): line for line in lines}
    assert events["source_down"]["url"] == source_url and events["source_down"]["error"]
    assert events["leadership_gained"]["component"] == "refresher"
    assert events["metrics_serving"]["bind"] == f"127.0.0.1:{port}"
