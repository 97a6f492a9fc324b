"""A refresher frozen in the middle of a refresh never moves the snapshot back in time.

Two refresher processes and an API read a TickingSource: each fetch gets a new tick, a table of
20,000 switches (so that parsing and writing take a while) and a random delay of up to 0.3 s
before the answer. Round after round, the process running the refresh is frozen with SIGSTOP
while it fetches, parses or writes (the rounds take these in turn: within the answer's delay,
at a random moment after the answer was sent, or once a batch of the write is open), kept frozen
until the other refresher has written a newer tick, then resumed with SIGCONT. Meanwhile two
threads read the snapshot's source time from Redis and its tick from the API without pause:
neither may ever go back.
The phase each pause hit is read from the world, not assumed: the refresher's connection to
the source is still open (fetch), Redis lists a connection inside MULTI (write), or neither
(parse, and the steps around it); a generation numbered but not yet published counts as write.
``TELEMETRY_TEST_PAUSES`` sets the number of rounds (default 9).
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from collections import Counter

import pytest
import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job

from refresher_worker.stale import worker_identity
from telemetry_common.jobs import refresh_queue
from telemetry_common.keys import Keys
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port, wait_for
from tests.helpers.layout import meta_field
from tests.helpers.load import report
from tests.helpers.monotone import Monotone
from tests.helpers.ticking import Served, TickingSource

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

KEYS = Keys()
PAUSES = int(os.environ.get("TELEMETRY_TEST_PAUSES", "9"))
BUDGET = 40.0 + 12.0 * PAUSES  # seconds the rounds may take in all
FETCH_DELAY = 0.3
SETTINGS = {
    "TELEMETRY_REFRESH_INTERVAL": "1",
    "TELEMETRY_TTL": "8",
    "TELEMETRY_LEADER_TTL": "1",
    "TELEMETRY_FETCH_TIMEOUT": "0.9",
    "TELEMETRY_REFRESHER_METRICS_BIND": "off",
}


def running_pids(client: redis.Redis) -> list[int]:
    """Return the pids of the refreshers whose workers run a refresh job.

    The job is ``telemetry-refresh``, or the id it was handed over to while a frozen
    refresher held it: rq's started registry lists whichever runs.
    """
    pids = []
    for job_id in refresh_queue(client).started_job_registry.get_job_ids(cleanup=False):
        try:
            name = Job.fetch(job_id, connection=client).worker_name
        except NoSuchJobError:  # it just ended
            continue
        identity = worker_identity(name) if name else None
        if identity:
            pids.append(int(identity.rsplit("-", 2)[1]))
    return pids


def running_pid(client: redis.Redis) -> int | None:
    """Return the pid of a refresher whose worker runs a refresh job, if one does."""
    return next(iter(running_pids(client)), None)


def in_multi(client: redis.Redis) -> bool:
    """Return whether a connection to Redis is inside a MULTI: a snapshot is being written."""
    return any(int(c.get("multi", -1)) >= 0 for c in client.client_list())


def phase(client: redis.Redis, served: Served) -> str:
    """Return what the frozen refresh was doing: fetch, parse or write."""
    if served.done is None or served.still_read():
        return "fetch"
    begun, published = client.mget([KEYS.generation, KEYS.current])
    if in_multi(client) or int(begun or 0) > int(published or 0):  # a generation under way
        return "write"
    written = meta_field(client, KEYS, "source_tick")
    return "after its write" if written and int(written) >= served.tick else "parse"


def outcome(log: str) -> str:
    """Return how the resumed refresh ended, from the last lines of its process's log."""
    if "refresh fenced" in log:
        return "fenced"
    failed = re.search(r"refresh failed \((\w+)\)", log)
    if failed:
        return f"failed ({failed.group(1)})"
    return "no refresh outcome logged"


def freeze_once(
    client: redis.Redis, victim: Service, served: Served, mode: int, rng: random.Random
) -> tuple[str, str]:
    """Freeze the refresh of ``served`` until a newer tick is written; return phase, outcome."""
    if mode == 0:  # inside the source's delay: the fetch
        time.sleep(rng.uniform(0, FETCH_DELAY / 2))
    elif mode == 1:  # after the answer: reading it, parsing, writing
        wait_for(lambda: served.done is not None, 10, 0.002, "the answer")
        time.sleep(rng.uniform(0, 0.25))
    else:  # once the write's MULTI is open
        wait_for(lambda: in_multi(client), 10, 0.001, "a write")
        time.sleep(rng.uniform(0, 0.02))
    log_before = len(victim.output())
    victim.signal(signal.SIGSTOP)
    hit = phase(client, served)
    newer = lambda: int(meta_field(client, KEYS, "source_tick") or 0) > served.tick  # noqa: E731
    wait_for(newer, 30, 0.02, "a newer snapshot from the other refresher")
    victim.signal(signal.SIGCONT)
    ended = lambda: victim.process.pid not in running_pids(client)  # noqa: E731
    wait_for(ended, 30, 0.02, "the resumed refresh to end (rq closes its job)")
    return hit, outcome(victim.output()[log_before:])


def test_a_refresher_frozen_mid_refresh_never_moves_the_snapshot_back(
    private_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    source = TickingSource(switches=20_000, delay=FETCH_DELAY)
    client = redis.Redis.from_url(private_redis.url, socket_timeout=5)
    env = {"TELEMETRY_REDIS_URL": private_redis.url, "TELEMETRY_SOURCE_URL": source.url}
    refreshers = [Service(["refresher"], env=env | SETTINGS) for _ in range(2)]
    api_url = f"http://127.0.0.1:{free_port()}"
    api = Service(["api", "--bind", api_url[7:], "--workers", "1"], env=env)
    by_pid = {service.process.pid: service for service in refreshers}
    rng = random.Random(int(os.environ.get("TELEMETRY_TEST_SEED", "15")))
    phases: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    started = time.monotonic()
    try:
        api.wait_http(f"{api_url}/readyz", timeout=60)
        with Monotone(private_redis.url, KEYS, api_url) as watch:
            for round_number in range(PAUSES):
                if time.monotonic() - started > BUDGET:
                    break
                served = source.wait_request(len(source.served), timeout=20)
                pid = wait_for(lambda: running_pid(client), 5, 0.005, "the running refresh")
                hit, ended = freeze_once(client, by_pid[pid], served, round_number % 3, rng)
                phases[hit] += 1
                outcomes[ended] += 1
                pairs[f"{hit}: {ended}"] += 1
            last = int(meta_field(client, KEYS, "source_tick") or 0)  # the refreshes go on:
            wait_for(lambda: watch.highest_tick > last, 30, 0.02, "the API serving a newer tick")
        alive = [service.process.poll() is None for service in refreshers]
        final_tick = int(meta_field(client, KEYS, "source_tick") or 0)
        logs = "".join(service.output() for service in refreshers)
    finally:
        for service in (api, *refreshers):
            service.signal(signal.SIGCONT)
            service.stop()
        source.close()
        client.close()
    report(
        request,
        pauses=sum(phases.values()),
        phases=dict(phases),
        resumed_refresh_outcomes=dict(outcomes),
        by_phase=dict(pairs),
        redis_reads=watch.redis_reads,
        redis_regressions=len(watch.redis_regressions),
        api_reads=watch.api_reads,
        api_errors=watch.api_errors,
        api_regressions=len(watch.api_regressions),
        ticks_served=len(source.served),
        jobs_handed_over=logs.count("is stale ("),
        seconds=round(time.monotonic() - started, 1),
    )
    assert watch.redis_regressions == [] and watch.api_regressions == []
    assert sum(phases.values()) >= min(PAUSES, 3) and watch.redis_reads > 1000
    assert watch.api_reads > 100 and watch.highest_tick > 1
    assert outcomes["fenced"] >= 1, outcomes  # a frozen refresh did finish, and was discarded
    assert all(alive) and final_tick >= watch.highest_tick
    # A job left behind by a frozen refresher is an expected case: no ERROR, no traceback.
    errors = [line for line in logs.splitlines() if " ERROR " in line or "Traceback" in line]
    assert errors == []
