"""/telemetry/prometheus of a real API process over the generator and refresher's snapshots."""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import requests

from api_service.families import family_of
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port, wait_for
from tests.helpers.exposition import exposed_value, parse, switch_samples

pytestmark = pytest.mark.integration

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"


@pytest.fixture
def api_url(private_redis: RedisServer) -> Iterator[str]:
    generator = f"127.0.0.1:{free_port()}"
    api = f"127.0.0.1:{free_port()}"
    services = [
        Service(["generator", "--bind", generator], env={"TELEMETRY_SWITCHES": "50"}),
        Service(
            ["refresher"],
            env={
                "TELEMETRY_REDIS_URL": private_redis.url,
                "TELEMETRY_SOURCE_URL": f"http://{generator}/counters",
                "TELEMETRY_REFRESH_INTERVAL": "1",
                "TELEMETRY_TTL": "4",
                "TELEMETRY_REFRESHER_METRICS_BIND": "off",
            },
        ),
        Service(
            ["api", "--bind", api, "--workers", "1"],
            env={"TELEMETRY_REDIS_URL": private_redis.url},
        ),
    ]
    try:
        services[2].wait_http(f"http://{api}/readyz", timeout=30)
        yield f"http://{api}"
    finally:
        for service in reversed(services):
            service.stop()


def same_generation_values(api_url: str, accept: str) -> tuple[str, dict, dict]:  # type: ignore[type-arg]
    """Scrape, then ask GetMetric for 20 random samples; retry until all share one generation."""

    def attempt() -> tuple[str, dict, dict] | None:  # type: ignore[type-arg]
        scraped = requests.get(
            f"{api_url}/telemetry/prometheus", headers={"Accept": accept}, timeout=5
        )
        assert scraped.status_code == 200
        generation = scraped.headers["X-Telemetry-Generation"]
        samples = switch_samples(parse(scraped.text, scraped.headers["Content-Type"]))
        names = requests.get(f"{api_url}/telemetry/metrics", timeout=5).text.split()[1:]
        switches = sorted({switch for _, switch in samples})
        answered = {}
        for switch, metric in random.Random(5).sample(
            [(s, m) for s in switches for m in names], 20
        ):
            one = requests.get(
                f"{api_url}/telemetry/GetMetric",
                params={"switch": switch, "metric": metric},
                timeout=5,
            )
            if one.headers["X-Telemetry-Generation"] != generation:
                return None
            value = one.text.split()[1].split(",")[1].encode()
            answered[(family_of(metric).sample, switch)] = exposed_value(metric, value)
        return scraped.text, samples, answered

    return wait_for(attempt, 30, interval=0.1, message="answers of one generation")


@pytest.mark.parametrize("accept", ["*/*", OPENMETRICS])
def test_the_exposition_holds_getmetrics_values_of_the_same_generation(
    api_url: str, accept: str
) -> None:
    body, samples, answered = same_generation_values(api_url, accept)
    assert len(samples) == 50 * 8
    assert {key: samples[key] for key in answered} == answered
    assert body.endswith("# EOF\n") == (accept == OPENMETRICS)


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not on PATH (.ci/run puts it there)"
)
def test_promtool_finds_nothing_to_say_about_the_exposition(api_url: str) -> None:
    body = requests.get(f"{api_url}/telemetry/prometheus", timeout=5).text
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
