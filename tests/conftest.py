"""Fixtures shared by every test: fake and real Redis, free ports, service processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import fakeredis
import pytest
import redis

from telemetry_stack.servers.redis_server import RedisServer, answers
from tests.helpers.source import StubSource


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--redis-url",
        default=os.environ.get("TELEMETRY_TEST_REDIS_URL") or None,
        help="a Redis the integration tests may use and flush around each test; without it "
        "they start a private server (redis-server on PATH, else the embedded one)",
    )


@pytest.fixture
def stub() -> Iterator[StubSource]:
    """Return a stand-in /counters source on a free port, closed after the test."""
    source = StubSource()
    yield source
    source.close()


@pytest.fixture
def fake() -> fakeredis.FakeRedis:
    """Return an empty in-process fake Redis (with Lua)."""
    return fakeredis.FakeRedis()


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Return the URL of a real Redis-protocol server for the whole session.

    A server named by --redis-url (or TELEMETRY_TEST_REDIS_URL) must answer: the tests never
    write to a Redis they were not given, and never start one in place of the one named.
    """
    url: str | None = request.config.getoption("--redis-url")
    if url:
        client = redis.Redis.from_url(url)
        host = client.connection_pool.connection_kwargs.get("host", "127.0.0.1")
        port = client.connection_pool.connection_kwargs.get("port", 6379)
        client.close()
        if not answers(host, port):
            pytest.fail(f"--redis-url {url}: nothing answers there", pytrace=False)
        yield url
        return
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def real_redis(redis_url: str) -> Iterator[redis.Redis]:
    """Return a client of the real server, its database flushed before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """Return a private real server that a test may stop and start again."""
    server = RedisServer().start()
    yield server
    server.close()
