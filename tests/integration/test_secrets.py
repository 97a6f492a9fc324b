"""No password or token of a URL in any output, under the faults that make processes talk.

The refresher reads a source URL with a user, a password and a token, and both services use a
Redis URL with a password. The source goes away, then Redis: every log line of both
processes, every HTTP answer of every route, and ``telemetry status`` (text and JSON, Redis
down and up) are searched for the secrets; the URLs themselves still show, masked.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port, wait_for
from tests.helpers.processes import generator, refresher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SECRETS = ("redis-secret-pw", "source-secret-pw", "source-secret-token")
API_ROUTES = [
    "/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/telemetry/switches",
    "/telemetry/metrics", "/telemetry/prometheus", "/telemetry/GetMetric?switch=1&metric=Latency",
    "/telemetry/ListMetrics?metrics=Latency", "/telemetry/GetMetric?switch=1&metric=Nope",
    "/no/such/route",
]  # fmt: skip


def status(redis_url: str, *flags: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "telemetry_stack", "status", *flags],
        env={"TELEMETRY_REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout + done.stderr


def answers(base: str, routes: list[str]) -> str:
    said = []
    for route in routes:
        response = requests.get(base + route, timeout=5)
        said.append(f"{route} {response.status_code} {dict(response.headers)} {response.text}")
    return "\n".join(said)


def test_no_secret_reaches_a_log_an_answer_or_the_status() -> None:
    server = RedisServer(extra=("--requirepass", "redis-secret-pw")).start()
    redis_url = f"redis://:redis-secret-pw@{server.host}:{server.port}/0"
    gen, source_url = generator(switches=10)
    secret_source = (
        source_url.replace("http://", "http://reader:source-secret-pw@")
        + "?token=source-secret-token"
    )
    metrics_port = free_port()
    worker = refresher(
        redis_url,
        secret_source,
        refresh_interval="0.5",
        refresher_metrics_bind=f"127.0.0.1:{metrics_port}",
        log_level="DEBUG",
    )
    bind = f"127.0.0.1:{free_port()}"
    api = Service(
        ["api", "--bind", bind, "--workers", "1"],
        env={"TELEMETRY_REDIS_URL": redis_url, "TELEMETRY_LOG_FORMAT": "json"},
    )
    base, shown = f"http://{bind}", []
    try:
        api.wait_http(f"{base}/healthz")
        wait_for(lambda: requests.get(f"{base}/readyz", timeout=5).ok, 20, message="a snapshot")
        shown.append(answers(base, API_ROUTES))
        gen.stop()  # the source goes away: the refresher says so, naming its URL
        wait_for(lambda: "source_unreachable" in status(redis_url), 20, message="source down")
        shown += [status(redis_url), status(redis_url, "--json")]
        server.stop()  # then Redis
        shown += [answers(base, API_ROUTES), status(redis_url), status(redis_url, "--json")]
        shown.append(requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text)
        wait_for(lambda: "Redis" in worker.output() and "failed" in api.output(), 10)
        server.start()
        wait_for(lambda: "last error" in status(redis_url), 20, message="Redis back")
        shown += [status(redis_url), status(redis_url, "--json")]
    finally:
        api.stop()
        worker.stop()
        gen.stop()
        server.close()
    shown += [api.output(), worker.output()]
    everything = "\n".join(shown)
    for secret in SECRETS:
        assert secret not in everything, everything[everything.find(secret) - 300 :][:600]
    assert "http://reader:***@127.0.0.1" in worker.output()  # shown, masked
    assert "token=***" in worker.output() and "redis://:***@" in worker.output()
    assert "Redis failed" in api.output() and "source_unreachable" in everything
