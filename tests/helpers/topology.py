"""A whole stack (generator, refreshers, API) on a Sentinel set, and failover measurements."""

from __future__ import annotations

import time

import redis

from telemetry_common.keys import Keys
from telemetry_stack.servers.sentinel_set import SentinelSet
from tests.helpers import Service, free_port, wait_for
from tests.helpers.load import Sample

KEYS = Keys()


class SentinelStack:
    """A generator, two refreshers writing through Sentinel, an API reading the replica."""

    def __init__(self, sentinels: SentinelSet, *, read_role: str = "replica") -> None:
        self.sentinels = sentinels
        self.generator_url = f"http://127.0.0.1:{free_port()}"
        self.api_url = f"http://127.0.0.1:{free_port()}"
        write = {"TELEMETRY_REDIS_URL": sentinels.url()}
        self.services = [
            Service(
                ["generator", "--bind", self.generator_url.removeprefix("http://")],
                env={"TELEMETRY_SWITCHES": "30", "TELEMETRY_TICK_INTERVAL": "0.5"},
            )
        ]
        self.services[0].wait_http(f"{self.generator_url}/healthz")
        refresher_env = {
            **write,
            "TELEMETRY_SOURCE_URL": f"{self.generator_url}/counters",
            "TELEMETRY_REFRESH_INTERVAL": "1",
            "TELEMETRY_TTL": "10",
            "TELEMETRY_REFRESHER_METRICS_BIND": "off",
        }
        self.services += [Service(["refresher"], env=refresher_env) for _ in range(2)]
        read = {"TELEMETRY_REDIS_READ_URL": sentinels.url(role=read_role)}
        bind = self.api_url.removeprefix("http://")
        self.services.append(
            Service(["api", "--bind", bind, "--workers", "2"], env={**write, **read})
        )
        self.services[-1].wait_http(f"{self.api_url}/readyz", timeout=40)

    def primary(self) -> redis.Redis:
        """Return a plain client of the node the sentinels name primary now."""
        return self.sentinels.node(self.sentinels.primary_port()).client()

    def output(self) -> str:
        """Return every service's output, for a failure message."""
        return "\n".join(f"--- {s.args}:\n{s.output()[-3000:]}" for s in self.services)

    def stop(self) -> None:
        """Stop every service."""
        for service in reversed(self.services):
            service.stop()


def generation_on(client: redis.Redis) -> int:
    """Return the live snapshot's generation on that node, 0 when none or unreachable."""
    try:
        value = client.get(KEYS.current)
    except redis.RedisError:
        return 0
    return int(value) if value else 0


def writes_resume(sentinels: SentinelSet, old_port: int, before: int, timeout: float) -> float:
    """Wait until a new primary (not on ``old_port``) holds a newer snapshot; return when."""

    def resumed() -> bool:
        try:
            port = sentinels.primary_port()
        except Exception:
            return False
        return port != old_port and generation_on(sentinels.node(port).client(0.5)) > before

    wait_for(resumed, timeout, 0.05, "writes on the new primary")
    return time.monotonic()


def generations_go_back(samples: list[Sample]) -> list[tuple[int, int]]:
    """Return (seen, later) pairs where an answer started after one that saw ``seen`` ended."""
    backwards = []
    finished = sorted((s.finished, s.generation) for s in samples if s.generation is not None)
    best, index = 0, 0
    for sample in sorted(samples, key=lambda s: s.started):
        while index < len(finished) and finished[index][0] < sample.started:
            best = max(best, finished[index][1] or 0)
            index += 1
        if sample.generation is not None and sample.generation < best:
            backwards.append((best, sample.generation))
    return backwards
