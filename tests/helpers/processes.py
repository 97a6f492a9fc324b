"""The refresher and the generator as real processes, and what they leave in Redis."""

from __future__ import annotations

import redis

from telemetry_common.keys import Keys
from telemetry_common.reader import read_catalog
from tests.helpers import Service, free_port

KEYS = Keys()


def refresher(redis_url: str, source_url: str, **settings: str) -> Service:
    """Start one refresher process; ``settings`` are TELEMETRY_* names without the prefix."""
    env = {"TELEMETRY_REDIS_URL": redis_url, "TELEMETRY_SOURCE_URL": source_url}
    env |= {f"TELEMETRY_{name.upper()}": value for name, value in settings.items()}
    return Service(["refresher"], env=env)


def generator(switches: int = 30, tick: str = "1") -> tuple[Service, str]:
    """Start a generator process and return it with its /counters URL, once it answers."""
    port = free_port()
    service = Service(
        ["generator", "--bind", f"127.0.0.1:{port}", "--seed", "7"],
        env={"TELEMETRY_SWITCHES": str(switches), "TELEMETRY_TICK_INTERVAL": tick},
    )
    service.wait_http(f"http://127.0.0.1:{port}/healthz")
    return service, f"http://127.0.0.1:{port}/counters"


def generation(client: redis.Redis) -> int:
    """Return the live snapshot's generation, 0 when there is none."""
    value = client.get(KEYS.current)
    return int(value) if value else 0


def snapshot_dump(client: redis.Redis) -> dict[str, bytes | None]:
    """Return the serialized content of every key of the live snapshot, and the pointer."""
    catalog = read_catalog(client, KEYS)
    at = KEYS.at(catalog.info.generation)
    names = [KEYS.current, KEYS.generation, at.meta, at.switches, at.metrics]
    names += [at.switch(s) for s in catalog.switches] + [at.metric(m) for m in catalog.metrics]
    return {name: client.dump(name) for name in names}


def status(client: redis.Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(KEYS.status).items()}
