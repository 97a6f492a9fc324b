"""Helpers of the fault tests: the stack as real processes, and what they read from Redis.

This module holds no tests. Every fault test runs the roles with short timings (refresh
interval 1 s, TTL 3 s unless a test says otherwise) so that bounds stated in intervals and
TTLs are reached within seconds.
"""

from __future__ import annotations

import redis

from telemetry_common.keys import Keys
from tests.helpers import Service, free_port, wait_for
from tests.helpers.faultproxy import FaultProxy

PREFIX = "faults"
KEYS = Keys(PREFIX)
INTERVAL = 1.0
TTL = 3
TICK = 0.5  # the generator's tick interval


class Stack:
    """A generator, refreshers and a two-worker API on one Redis, each a real process."""

    def __init__(
        self,
        redis_url: str,
        *,
        refreshers: int = 1,
        ttl: int = TTL,
        proxy: bool = False,
        **extra: str,
    ) -> None:
        self.generator_port = free_port()
        self.generator_url = f"http://127.0.0.1:{self.generator_port}"
        self.api_url = f"http://127.0.0.1:{free_port()}"
        self.generator = self.start_generator()
        self.proxy = FaultProxy(("127.0.0.1", self.generator_port)) if proxy else None
        source = f"http://127.0.0.1:{self.proxy.port if self.proxy else self.generator_port}"
        common = {"TELEMETRY_REDIS_URL": redis_url, "TELEMETRY_KEY_PREFIX": PREFIX}
        self.refresher_env = common | {
            "TELEMETRY_SOURCE_URL": f"{source}/counters",
            "TELEMETRY_REFRESH_INTERVAL": f"{INTERVAL:g}",
            "TELEMETRY_TTL": str(ttl),
        }
        self.refresher_env |= {f"TELEMETRY_{k.upper()}": v for k, v in extra.items()}
        self.refreshers: list[Service] = []
        self.api: Service | None = None
        try:
            for _ in range(refreshers):
                self.refreshers.append(Service(["refresher"], env=self.refresher_env))
            bind = self.api_url.removeprefix("http://")
            self.api = Service(["api", "--bind", bind, "--workers", "2"], env=common)
            self.api.wait_http(f"{self.api_url}/readyz", timeout=30)
        except BaseException:
            self.stop()
            raise

    def start_generator(self) -> Service:
        """Start the generator on its port (again, after a stop) and wait until it answers."""
        service = Service(
            ["generator", "--bind", f"127.0.0.1:{self.generator_port}", "--seed", "3"],
            env={"TELEMETRY_SWITCHES": "20", "TELEMETRY_TICK_INTERVAL": f"{TICK:g}"},
        )
        service.wait_http(f"{self.generator_url}/healthz")
        return service

    def services(self) -> list[Service]:
        """Return every process of the stack."""
        return [self.generator, *self.refreshers, *([self.api] if self.api else [])]

    def stop(self) -> None:
        """Stop every process, the API first, and the proxy."""
        for service in reversed(self.services()):
            service.stop()
        if self.proxy is not None:
            self.proxy.close()


def generation(client: redis.Redis) -> int:
    """Return the live snapshot's generation, 0 when there is none."""
    value = client.get(KEYS.current)
    return int(value) if value else 0


def snapshot_dump(client: redis.Redis) -> dict[bytes, object]:
    """Return the serialized content of the live generation's keys, the pointer and the fence.

    The fence hash is read field by field, without its count of tokens issued, which every
    refresh advances when it starts, failed or not.
    """
    live = client.get(KEYS.current)
    names = [KEYS.current.encode(), KEYS.generation.encode(), KEYS.fence.encode()]
    if live is not None:
        names += list(client.scan_iter(match=KEYS.at(live.decode()).base + ":*"))
    found: dict[bytes, object] = {name: client.dump(name) for name in sorted(names)}
    if KEYS.fence.encode() in found:
        fence: dict[bytes, bytes] = client.hgetall(KEYS.fence)  # type: ignore[assignment]
        fence.pop(b"issued", None)
        found[KEYS.fence.encode()] = fence
    return found


def status(client: redis.Redis) -> dict[str, str]:
    """Return the refresher's status hash as text."""
    found: dict[bytes, bytes] = client.hgetall(KEYS.status)  # type: ignore[assignment]
    return {k.decode(): v.decode() for k, v in found.items()}


def wait_generation_above(client: redis.Redis, floor: int, timeout: float) -> int:
    """Wait until a snapshot newer than ``floor`` is live; return its generation."""
    return int(wait_for(lambda: generation(client) > floor and generation(client), timeout))
