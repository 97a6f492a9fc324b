"""The generator is killed, then back: the snapshot expires at its TTL, 503s, then fresh data.

One refresher (interval 1 s, TTL 3 s), an API with 2 workers and a load loop of two threads.
Expiry is checked against the clock the snapshot was written with: an answer that finished
before ``written_at + TTL`` must be a 200, one that started after the last write plus the TTL
(and ended before the generator was started again) must be a 503. After the return, the
refresher's own schedule is the measure, not the wall clock of a possibly loaded machine: the
first refresh that starts after the return brings fresh data.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
import redis

from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.faults import KEYS, TTL, Stack, status
from tests.helpers.layout import meta_of
from tests.helpers.load import Load, Sample, report, statuses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SINCE = re.compile(r"\bstale\b.*\bsince\b", re.IGNORECASE | re.DOTALL)
RACED = "could not be read (published meanwhile"


def test_generator_stopped_snapshot_expires_at_its_ttl_then_fresh_data_on_return(
    private_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    stack = Stack(private_redis.url)
    try:
        with Load(stack.api_url, threads=2) as load:
            load.wait_answers(50)  # steady state under load
            os.killpg(stack.generator.process.pid, signal.SIGKILL)  # at once, workers too
            stack.generator.process.wait(10)
            stopped = time.monotonic()
            last: list[tuple[int, float, float]] = []  # generation, written_at, source_time

            def expired() -> bool:
                found = meta_of(client, KEYS, "generation", "written_at", "source_time")
                if found[0] is None:
                    return True
                last[:] = [(int(found[0]), float(found[1]), float(found[2]))]
                return False

            wait_for(expired, TTL + 3, 0.02, "the snapshot to expire")
            expired_after = time.monotonic() - stopped
            load.wait_answers(20, 503, after=stopped + expired_after)  # a run of honest 503s
            recorded = status(client)
            restarting = time.monotonic()  # answers that finished before cannot be fresh data
            stack.generator = stack.start_generator()
            back = time.monotonic()
            failed_at_return = int(status(client).get("refreshes_failed", 0))

            def first_200() -> Sample | None:
                found = (s for s in list(load.samples) if s.status == 200 and s.started > back)
                return next(found, None)

            fresh = wait_for(first_200, 20, message="a 200 after the generator's return")
            failed_after_return = int(status(client)["refreshes_failed"]) - failed_at_return
            load.wait_answers(50, after=fresh.started)  # fresh data goes on being served
        samples = load.stop()
    finally:
        stack.stop()
        client.close()

    _, last_write, last_tick = last[0]  # written_at is stamped before the EXEC
    last_recorded = float(recorded["last_written_at"])  # taken after the EXEC
    before_expiry = [s for s in samples if s.wall + s.seconds < last_write + TTL]
    after_expiry = [s for s in samples if last_recorded + TTL < s.wall and s.finished < restarting]
    stale = [s for s in samples if s.status == 503]
    report(
        request,
        requests=len(samples),
        statuses=statuses(samples),
        expired_after_stop_s=round(expired_after, 3),
        fresh_after_return_s=round(fresh.finished - back, 3),
        refreshes_failed_after_return=failed_after_return,
        age_of_first_fresh_answer_s=fresh.age,
        max_age_served_s=max(s.age or 0.0 for s in samples),
        last_snapshot_tick_to_write_s=round(last_write - last_tick, 3),
        message_503=stale[0].text.strip() if stale else None,
    )
    assert statuses(before_expiry) == {200: len(before_expiry)}
    assert after_expiry and statuses(after_expiry) == {503: len(after_expiry)}
    assert not [s for s in samples if s.status not in (200, 503)]
    # Served until its TTL, the last snapshot's data gets older than the TTL by its tick-to-write
    # lag; the API stamps the age after its read, within the request's own duration.
    lag = last_recorded - last_tick
    answered = [s for s in samples if s.status == 200 and s.finished < restarting]
    assert all(s.age is not None and s.age <= TTL + lag + s.seconds for s in answered)
    assert recorded["last_error_kind"] == "source_unreachable"
    assert int(recorded["refreshes_failed"]) >= 1
    assert all(s.retry_after for s in stale)
    # At most the refresh under way at the return failed: the next one brought fresh data,
    # ticked by the generator since its return (to the rounding of its headers).
    assert failed_after_return <= 1, f"{failed_after_return} refreshes failed after the return"
    assert fresh.age is not None and fresh.age <= fresh.finished - restarting + 0.01
    # Each 503 says since when the data is stale; one whose read just missed the first new
    # snapshot (published between its read and its 503) says that instead.
    unsaid = [
        s.text
        for s in stale
        if not (SINCE.search(s.text) or (RACED in s.text and s.finished > restarting))
    ]
    assert stale and not unsaid, f"the 503 says {unsaid[:1]!r}"
