"""One Redis user per role, loaded from ``telemetry redis-acl`` into a real redis-server.

The stack serves with each process on its own user, the API's cold miss still brings a
refresh, and the API and reader users are refused every write that matters.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import requests

from telemetry_common.keys import QUEUE_NAME, Keys
from telemetry_stack.acl import passwords_from, render
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import Service, free_port, wait_for
from tests.helpers.processes import generator, refresher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

PASSWORDS = {
    "TELEMETRY_REFRESHER_PASSWORD": "refresher-pw",
    "TELEMETRY_API_PASSWORD": "api-pw",
    "TELEMETRY_READER_PASSWORD": "reader-pw",
}
ADMIN = "user admin on >admin-pw ~* &* +@all"  # the test's own, to set up and break things
KEYS = Keys()
WRITING_SCRIPT = "return redis.call('set', KEYS[1], 'forged')"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    acl = tmp_path_factory.mktemp("acl") / "users.acl"
    acl.write_text(render("telemetry", passwords_from(PASSWORDS)) + ADMIN + "\n")
    started = RedisServer(extra=("--aclfile", str(acl))).start()
    yield started
    started.close()


def url(server: RedisServer, user: str, password: str) -> str:
    return f"redis://{user}:{password}@{server.host}:{server.port}/0"


def client(server: RedisServer, user: str, password: str) -> redis.Redis:
    return redis.Redis(server.host, server.port, username=user, password=password, socket_timeout=2)


def test_the_default_user_is_off(server: RedisServer) -> None:
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(server.host, server.port, socket_timeout=2).ping()


WRITES: dict[str, Callable[[redis.Redis], object]] = {
    "a snapshot key": lambda c: c.set(KEYS.current, 99),
    "the queue": lambda c: c.rpush(f"rq:queue:{QUEUE_NAME}", "job"),
    "FLUSHALL": lambda c: c.flushall(),
    "CONFIG SET": lambda c: c.config_set("maxmemory", "1mb"),
    "EVAL of a script that writes": lambda c: c.eval(WRITING_SCRIPT, 1, KEYS.current),
    "EVALSHA of a script that writes": lambda c: c.evalsha(
        c.script_load(WRITING_SCRIPT), 1, KEYS.current
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize(
    ("user", "password"),
    [("telemetry-api", "api-pw"), ("telemetry-reader", "reader-pw")],
)
def test_the_api_and_reader_users_cannot_write(
    server: RedisServer, user: str, password: str, write: str
) -> None:
    admin = client(server, "admin", "admin-pw")
    admin.set(KEYS.current, 1)
    with pytest.raises(redis.ResponseError) as refused:
        WRITES[write](client(server, user, password))
    # Redis 7.0 reports a refused call inside a script as "ERR The user executing the script
    # can't ..."; every other refusal is NOPERM.
    text = str(refused.value)
    assert isinstance(refused.value, redis.exceptions.NoPermissionError) or (
        "script" in write and "The user executing the script can't" in text
    ), text
    assert admin.get(KEYS.current) == b"1" and admin.llen(f"rq:queue:{QUEUE_NAME}") == 0
    assert admin.config_get("maxmemory") == {"maxmemory": "0"}


def test_the_api_writes_its_request_key_and_the_reader_does_not(server: RedisServer) -> None:
    assert client(server, "telemetry-api", "api-pw").set(KEYS.refresh_request, "asked")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client(server, "telemetry-reader", "reader-pw").set(KEYS.refresh_request, "asked")


def test_the_stack_serves_with_a_user_per_role_and_a_cold_miss_still_refreshes(
    server: RedisServer, tmp_path: Path
) -> None:
    admin = client(server, "admin", "admin-pw")
    admin.flushall()
    gen, source_url = generator(switches=20)
    worker = refresher(
        url(server, "telemetry-refresher", "refresher-pw"),
        source_url,
        refresh_interval="30",  # after the first, only an ask brings a refresh
        ttl="60",
        refresher_metrics_bind=f"127.0.0.1:{free_port()}",
    )
    bind = f"127.0.0.1:{free_port()}"
    api = Service(
        ["api", "--bind", bind, "--workers", "1"],
        env={"TELEMETRY_REDIS_URL": url(server, "telemetry-api", "api-pw")},
    )
    get_metric = f"http://{bind}/telemetry/GetMetric?switch=1&metric=Latency"
    try:
        api.wait_http(f"http://{bind}/healthz")
        first = wait_for(
            lambda: requests.get(get_metric, timeout=5).ok and int(admin.get(KEYS.current)), 20
        )
        admin.delete(KEYS.current)  # as if the snapshot had expired
        cold = requests.get(get_metric, timeout=5)
        assert cold.status_code == 503 and "a refresh is requested" in cold.text, cold.text
        # within 10 s: the asked refresh, not the next one of the 30 s interval
        wait_for(lambda: requests.get(get_metric, timeout=5).ok, 10, message="the asked refresh")
        assert int(admin.get(KEYS.current)) > first
        status = subprocess.run(
            [sys.executable, "-m", "telemetry_stack", "status"],
            env={"TELEMETRY_REDIS_URL": url(server, "telemetry-reader", "reader-pw")},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert status.returncode == 0, status.stderr
        assert f"snapshot    generation {int(admin.get(KEYS.current))}," in status.stdout
        assert f"queue       {QUEUE_NAME}: 0 queued" in status.stdout
    finally:
        api.stop()
        worker.stop()
        gen.stop()
    for output in (api.output(), worker.output()):
        assert "NOPERM" not in output and "NoPermission" not in output, output[-2000:]
        assert "refresher-pw" not in output and "api-pw" not in output
    assert "refresh asked for: the API found no fresh snapshot" in worker.output()
