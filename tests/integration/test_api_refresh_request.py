"""The 503 of a missing snapshot says a refresh is requested only when the request is written.

An API whose Redis is a read-only replica (a real one, replicating a private primary) finds no
snapshot and cannot ask for a refresh: its 503 says so. On the writable primary the same
request writes the request key (never an RQ job), and the 503 says a refresh is requested.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from telemetry_common.jobs import refresh_queue
from telemetry_common.keys import Keys
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.api import make_app

pytestmark = pytest.mark.integration

URL = "/telemetry/GetMetric?switch=1&metric=Latency"


@pytest.fixture
def replica(private_redis: RedisServer) -> Iterator[redis.Redis]:
    """Return a client of a read-only replica of ``private_redis``."""
    server = RedisServer().start()
    client = redis.Redis.from_url(server.url, socket_timeout=2)
    client.replicaof(private_redis.host, private_redis.port)
    wait_for(lambda: client.info("replication")["master_link_status"] == "up", 15)
    yield client
    client.close()
    server.close()


def test_a_refresh_that_cannot_be_queued_is_not_said_to_be_requested(
    private_redis: RedisServer, replica: redis.Redis
) -> None:
    response = make_app(replica, retry_after=1).test_client().get(URL)
    assert response.status_code == 503
    assert response.data.decode() == (
        "503 Service Unavailable: no snapshot has been written yet; requesting a refresh failed "
        "(the queue's Redis is a read-only replica), retry in 1 s\n"
    )
    primary = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    assert primary.get(Keys().refresh_request) is None
    response = make_app(primary, retry_after=1).test_client().get(URL)
    assert response.status_code == 503
    assert response.data.decode().endswith("; a refresh is requested, retry in 1 s\n")
    assert primary.get(Keys().refresh_request) == b"the API found no fresh snapshot"
    assert refresh_queue(primary).count == 0
    primary.close()
