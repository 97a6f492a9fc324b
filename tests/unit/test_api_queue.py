"""The API reads one Redis and asks for refreshes on another (the queue's, the write side)."""

from __future__ import annotations

import fakeredis

from api_service import create_app
from api_service.config import ApiConfig
from telemetry_common.keys import Keys
from telemetry_common.redis_client import connect
from tests.helpers import free_port

PATH = "/telemetry/GetMetric?switch=1&metric=Latency"


def test_refresh_request_goes_to_the_queue_not_the_replica() -> None:
    replica, queue = fakeredis.FakeRedis(), fakeredis.FakeRedis()
    app = create_app(ApiConfig(), redis=replica, queue=queue)
    answer = app.test_client().get(PATH)
    assert answer.status_code == 503
    assert "a refresh is requested" in answer.get_data(as_text=True)
    assert queue.get(Keys().refresh_request) == b"the API found no fresh snapshot"
    assert replica.keys("*") == [] and queue.keys("rq:*") == []


def test_failed_refresh_request_says_so() -> None:
    dead = connect(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2, retries=0)
    app = create_app(ApiConfig(), redis=fakeredis.FakeRedis(), queue=dead)
    answer = app.test_client().get(PATH)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert "requesting a refresh failed (the queue's Redis is unreachable)" in text
    assert "a refresh is requested" not in text
