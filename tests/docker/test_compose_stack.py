"""compose.yaml on a real Docker engine, through the proxy on 127.0.0.1:8080 only.

The stack is the one ``make compose-up`` starts (tests/docker/conftest.py): Redis, the
generator, two refreshers, three API replicas and HAProxy. Each test leaves it as it found it,
but the last, which adds the Sentinel profile; the fixture removes everything after them.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from telemetry_common.keys import QUEUE_NAME, Keys
from telemetry_stack.compose.stack import Stack
from tests.helpers import wait_for
from tests.helpers.containers import (
    GET_METRIC,
    container_ids,
    crash,
    env_file,
    inspect,
    redis_cli,
    redis_get,
    served_by,
    wait_served_by,
)
from tests.helpers.load import Load, report, statuses

pytestmark = [pytest.mark.docker, pytest.mark.timeout(600)]

TTL = 10  # compose.yaml's default TELEMETRY_TTL
SWITCHES = 100  # compose.yaml's default TELEMETRY_SWITCHES
# What a 503 says while Redis restarts: it is down, then up but empty until the next refresh
# (or holding only the remains of a snapshot whose keys expired, or the first snapshot came
# between the read and the 503).
REASONS = (
    "Redis is unreachable",
    "no snapshot has been written yet",
    "the data is stale since",
    "could not be read (published meanwhile",
)
SENTINEL_ENV = Path(__file__).resolve().parents[2] / "deploy" / "sentinel.env"


def newest_generation(load: Load) -> int:
    """Return the newest generation any answer so far came from."""
    return max(s.generation for s in list(load.samples) if s.generation is not None)


def test_get_metric_and_list_metrics_answer_through_the_proxy_from_several_replicas(
    compose_stack: Stack, base_url: str, request: pytest.FixtureRequest
) -> None:
    one = requests.get(base_url + GET_METRIC, timeout=5)
    assert one.status_code == 200, one.text
    assert float(one.text.strip().splitlines()[-1].rpartition(",")[2]) >= 0
    assert int(one.headers["X-Telemetry-Generation"]) >= 1
    table = requests.get(base_url + "/telemetry/ListMetrics?metrics=Latency,CpuUsage", timeout=5)
    assert table.status_code == 200, table.text
    lines = table.text.strip().splitlines()
    assert lines[0] == "switch,Latency,CpuUsage" and len(lines) == 1 + SWITCHES
    seen = served_by(base_url, 30)
    replicas = len(container_ids(compose_stack, "api"))
    report(request, served_by=dict(seen), api_containers=replicas)
    assert replicas == 3 and 2 <= len(seen) <= replicas, seen


def test_each_service_has_its_own_redis_user_and_the_api_cannot_write(
    compose_stack: Stack,
) -> None:
    assert "NOAUTH" in redis_cli(compose_stack, "", "", "PING")  # the default user is off
    api = ("telemetry-api", "TELEMETRY_API_PASSWORD")
    current = Keys().current
    assert redis_cli(compose_stack, *api, "GET", current).isdigit()  # it reads
    for write in (
        ["SET", current, "1"],
        ["RPUSH", f"rq:queue:{QUEUE_NAME}", "job"],
        ["FLUSHALL"],
        ["CONFIG", "SET", "maxmemory", "1mb"],
    ):
        assert "NOPERM" in redis_cli(compose_stack, *api, *write), write
    reader = ("telemetry-reader", "TELEMETRY_READER_PASSWORD")
    assert redis_cli(compose_stack, *reader, "GET", current).isdigit()
    assert "NOPERM" in redis_cli(compose_stack, *reader, "SET", current, "1")
    for service, user in (("api", "telemetry-api"), ("refresher", "telemetry-refresher")):
        (container,) = container_ids(compose_stack, service)[:1]
        env = inspect(compose_stack, container, "{{json .Config.Env}}")
        assert f'"TELEMETRY_REDIS_URL=redis://{user}:' in env, service


def test_the_proxy_answers_429_past_a_clients_request_rate(
    compose_stack: Stack, base_url: str
) -> None:
    limited = Stack(compose_stack.file, compose_stack.engine, {
        **compose_stack.variables, "PROXY_RATE_LIMIT": "20",
    })  # fmt: skip
    limited.compose("up", "--detach", "--no-deps", "--wait", "proxy")
    try:
        with requests.Session() as session:
            codes = [session.get(base_url + "/healthz", timeout=5).status_code for _ in range(40)]
        assert codes == [200] * 20 + [429] * 20, codes
    finally:
        compose_stack.compose("up", "--detach", "--no-deps", "--wait", "proxy")
    assert requests.get(base_url + "/healthz", timeout=5).status_code == 200


def test_scaling_the_api_up_is_picked_up_by_the_proxy_without_a_restart(
    compose_stack: Stack, base_url: str, request: pytest.FixtureRequest
) -> None:
    (proxy,) = container_ids(compose_stack, "proxy")
    proxy_started = inspect(compose_stack, proxy, "{{.State.StartedAt}}")
    wait_served_by(base_url, 3, 60)
    # Without --wait: the clock starts when the fourth replica's container has started.
    compose_stack.compose("up", "--detach", "--no-recreate", "--scale", "api=4", "api")
    try:
        assert len(container_ids(compose_stack, "api")) == 4
        pickup = wait_served_by(base_url, 4, 60)  # every answer meanwhile is a 200
        assert container_ids(compose_stack, "proxy") == [proxy]
        assert inspect(compose_stack, proxy, "{{.State.StartedAt}}") == proxy_started
    finally:
        compose_stack.compose("up", "--wait", "--no-recreate", "--scale", "api=3", "api")
    report(request, fourth_replica_answers_after_its_start_s=round(pickup, 2))
    wait_for(lambda: len(served_by(base_url, 12)) == 3, 60, 0.5, "the proxy to drop the 4th")


def test_killing_the_leading_refreshers_container_loses_no_answer(
    compose_stack: Stack, base_url: str, request: pytest.FixtureRequest
) -> None:
    holder = wait_for(lambda: redis_get(compose_stack, Keys().leader), 30, 0.5, "a leader")
    hostname = holder.rsplit("-", 2)[0]  # a container's hostname is its short id
    (leader,) = [c for c in container_ids(compose_stack, "refresher") if c.startswith(hostname)]
    with Load(base_url) as load:
        load.wait_answers(100)
        before = newest_generation(load)
        crash(compose_stack, leader)
        killed = time.monotonic()
        wait_for(lambda: newest_generation(load) > before, 60, 0.05, "a newer generation")
        refreshed = time.monotonic() - killed
        time.sleep(TTL)  # keep the load on for one TTL after the new generation
    samples = load.stop()
    ages = [s.age for s in samples if s.age is not None]
    wait_for(
        lambda: len(container_ids(compose_stack, "refresher")) == 2
        and inspect(compose_stack, leader, "{{.State.Health.Status}}") == "healthy",
        120, 1, "the killed refresher to restart and become healthy",
    )  # fmt: skip
    report(
        request,
        new_generation_after_kill_s=round(refreshed, 2),
        requests=len(samples),
        statuses=statuses(samples),
        max_age_s=max(ages),
        slowest_answer_s=round(max(s.seconds for s in samples), 3),
    )
    assert statuses(samples) == {200: len(samples)}, [s for s in samples if s.status != 200][:5]
    assert len(ages) == len(samples) and max(ages) <= TTL
    assert refreshed < TTL


def test_restarting_redis_answers_503_with_retry_after_then_recovers_by_itself(
    compose_stack: Stack, base_url: str, request: pytest.FixtureRequest
) -> None:
    def recovered() -> float | None:
        """Return when answers came back: the first 200 of 100 in a row after the last failure."""
        samples = list(load.samples)
        last_failure = max(s.started for s in samples if s.status != 200)
        good = sorted(s.started for s in samples if s.status == 200 and s.started > last_failure)
        return good[0] if len(good) >= 100 else None

    with Load(base_url) as load:
        load.wait_answers(50)
        restarted = time.monotonic()
        compose_stack.compose("restart", "redis")
        load.wait_answers(1, status=503, after=restarted - 1, timeout=30)
        back = wait_for(recovered, 120, 0.05, "100 answers 200 in a row after the restart")
    samples = load.stop()
    failed = [s for s in samples if s.status != 200]
    reasons = Counter(next((r for r in REASONS if r in s.text), s.text[:200]) for s in failed)
    report(
        request,
        statuses=statuses(samples),
        recovered_after_restart_s=round(back - restarted, 2),
        failing_for_s=round(max(s.started for s in failed) - min(s.started for s in failed), 2),
        retry_after=sorted({s.retry_after for s in failed}, key=str),
        reasons=dict(reasons),
    )
    assert {s.status for s in failed} == {503}, failed[:5]
    assert all(s.retry_after and int(s.retry_after) > 0 for s in failed), failed[:5]
    assert set(reasons) <= set(REASONS), reasons  # each 503 says why


def test_the_sentinel_profile_comes_up_and_serves_through_the_sentinels(
    compose_stack: Stack, base_url: str
) -> None:
    settings = env_file(SENTINEL_ENV)
    sentinel = Stack(
        compose_stack.file, compose_stack.engine, {**compose_stack.variables, **settings}
    )
    before = int(requests.get(base_url + GET_METRIC, timeout=5)
                 .headers["X-Telemetry-Generation"])  # fmt: skip
    sentinel.up()
    for name in ("sentinel-1", "sentinel-2", "sentinel-3", "redis-replica"):
        assert len(container_ids(sentinel, name)) == 1, name
    (api,) = container_ids(sentinel, "api")[:1]
    env = inspect(sentinel, api, "{{json .Config.Env}}")
    hosts = f"{settings['REDIS_HOSTS']}/{settings['REDIS_DB']}"  # each service its own user
    assert re.search(rf'"TELEMETRY_REDIS_URL=redis\+sentinel://telemetry-api:[^@"]+@{hosts}"', env)
    assert re.search(rf'"TELEMETRY_REDIS_READ_URL=[^"]+@{hosts}\?role=replica"', env)
    primary = sentinel.compose(
        "exec", "-T", "sentinel-1", "redis-cli", "-p", "26379",
        "SENTINEL", "get-master-addr-by-name", "mymaster", capture=True,
    ).stdout.split()  # fmt: skip
    (redis,) = container_ids(sentinel, "redis")
    assert primary[0] == inspect(
        sentinel, redis, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    )

    def newer() -> bool:
        answer = requests.get(base_url + GET_METRIC, timeout=5)
        assert answer.status_code == 200, answer.text
        return int(answer.headers["X-Telemetry-Generation"]) > before

    assert wait_for(newer, 60, 0.5, "a generation written through the sentinels")
