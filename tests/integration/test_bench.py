"""`telemetry bench` as a real process against a real stack: counts, thresholds, an outage."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port

pytestmark = pytest.mark.integration

SWITCHES = 20


@dataclass
class Stack:
    """Generator, refresher and API on a private Redis the tests may stop."""

    redis: RedisServer
    api_url: str
    services: list[Service]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    server = RedisServer().start()
    generator_url = f"http://127.0.0.1:{free_port()}"
    api_url = f"http://127.0.0.1:{free_port()}"
    common = {"TELEMETRY_REDIS_URL": server.url, "TELEMETRY_LOG_LEVEL": "WARNING"}
    services = [
        Service(
            ["generator", "--bind", generator_url.removeprefix("http://")],
            env={"TELEMETRY_SWITCHES": str(SWITCHES), "TELEMETRY_TICK_INTERVAL": "0.5"},
        ),
        Service(
            ["refresher"],
            env={
                **common,
                "TELEMETRY_SOURCE_URL": f"{generator_url}/counters",
                "TELEMETRY_REFRESH_INTERVAL": "1",
                "TELEMETRY_TTL": "4",
            },
        ),
        Service(["api", "--bind", api_url.removeprefix("http://"), "--workers", "1"], env=common),
    ]
    try:
        services[0].wait_http(f"{generator_url}/healthz")
        services[2].wait_http(f"{api_url}/readyz", timeout=30)
        yield Stack(server, api_url, services)
    finally:
        for service in reversed(services):
            service.stop()
        server.close()


def bench(*args: str) -> tuple[int, dict[str, Any], str]:
    """Run `telemetry bench --json` briefly; return its status, report and stderr."""
    command = [sys.executable, "-m", "telemetry_stack", "bench", "--json", "--processes", "2"]
    done = subprocess.run(
        [*command, "--concurrency", "4", "--warmup", "0.3", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def assert_counts_add_up(report: dict[str, Any]) -> None:
    statuses, errors = report["statuses"], report["errors"]
    assert sum(statuses.values()) == report["requests"] > 0
    assert statuses.get("0", 0) == errors["connection"] + errors["timeout"]
    assert errors["status"] == sum(n for code, n in statuses.items() if code not in ("0", "200"))
    assert errors["bad_answer"] <= statuses.get("200", 0)
    assert report["error_rate"] == pytest.approx(sum(errors.values()) / report["requests"])


def test_every_answer_is_right_and_counted_and_a_lenient_threshold_passes(stack: Stack) -> None:
    status, report, stderr = bench(
        "--url", stack.api_url, "--duration", "2", "--max-p99-ms", "60000", "--max-error-rate", "0"
    )
    assert status == 0, stderr
    assert_counts_add_up(report)
    assert report["statuses"] == {"200": report["requests"]}
    assert report["catalog"] == {"switches": SWITCHES, "metrics": 8, "discovered": True}
    assert report["passed"] and all(item["passed"] for item in report["thresholds"])
    assert 0 <= report["max_age_s"] < 4  # the TTL
    assert report["latency_ms"]["min"] <= report["latency_ms"]["p50"] <= report["latency_ms"]["max"]


def test_an_impossible_p99_makes_it_fail_and_say_which(stack: Stack) -> None:
    status, report, stderr = bench(
        "--url", stack.api_url, "--requests", "200", "--max-p99-ms", "0.001"
    )
    assert status == 1
    assert report["requests"] == 200 and not report["passed"]
    assert "threshold failed: p99 latency" in stderr


def test_the_stub_measures_the_generator_itself() -> None:
    status, report, stderr = bench("--stub", "--duration", "1")
    assert status == 0, stderr
    assert_counts_add_up(report)
    assert report["errors"]["bad_answer"] == 0 and report["load_generator"]["cpu_us_per_request"]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not on PATH")
def test_the_wrk_engine_reports_the_same_way() -> None:
    status, report, stderr = bench("--stub", "--engine", "wrk", "--duration", "1", "--warmup", "0")
    assert status == 0, stderr
    assert (report["engine"], report["answers_checked"]) == ("wrk", False)
    assert_counts_add_up(report)
    assert report["statuses"] == {"200": report["requests"]} and report["max_age_s"] == 0.5


def test_nothing_listening_exits_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "telemetry_stack", "bench", "--url", url, "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and done.stdout == ""
    assert f"nothing answers at {url}" in done.stderr


def test_a_stack_without_redis_is_reported_as_503s(stack: Stack) -> None:
    stack.redis.stop()
    try:
        status, report, stderr = bench(
            "--url", stack.api_url, "--duration", "1.5", "--max-error-rate", "50%"
        )
    finally:
        stack.redis.start()
    assert status == 1, stderr
    assert "discovery failed (503" in stderr
    assert_counts_add_up(report)
    assert report["statuses"].get("503", 0) > 0
    assert report["errors"]["status"] == report["statuses"]["503"] == report["requests"]
    assert report["max_age_s"] is None
