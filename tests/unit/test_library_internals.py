"""The library internals the raw transaction path relies on, and the clients it refuses."""

from __future__ import annotations

import fakeredis
import pytest
import redis
from redis.cache import CacheConfig
from redis.cluster import RedisCluster
from redis.sentinel import Sentinel
from werkzeug.datastructures import Headers

from api_service import data_response
from telemetry_common import raw_exec


def test_redis_py_connections_still_keep_their_socket_in_sock() -> None:
    connection = redis.Connection()
    assert "_sock" in vars(connection), (
        "redis-py's Connection no longer has the private attribute _sock that "
        "telemetry_common/raw_exec.py reads replies from: adapt raw_exec to this redis-py "
        f"version ({redis.__version__}) or keep the version bound in pyproject.toml"
    )
    assert connection._sock is None  # set when it connects
    assert callable(getattr(connection, "send_packed_command", None)), (
        "redis-py's Connection.send_packed_command is gone: raw_exec.py sends through it"
    )


def test_werkzeug_headers_still_keep_their_pairs_in_list() -> None:
    assert isinstance(getattr(Headers(), "_list", None), list), (
        "werkzeug's Headers no longer keeps its (name, value) pairs in the private list _list "
        "that api_service/data_response.py fills: adapt it to this werkzeug version or keep "
        "the version bound in pyproject.toml"
    )
    assert data_response.PRIVATE_LIST


def test_a_data_response_sends_its_headers_and_body_as_built() -> None:
    pairs = [("ETag", '"1-csv-0"'), ("Content-Type", "text/csv; charset=utf-8")]
    response = data_response.DataResponse(b"switch,A\n1,2\n", list(pairs))
    assert response.status_code == 200 and response.get_data() == b"switch,A\n1,2\n"
    assert list(response.get_wsgi_headers({}).items()) == [*pairs, ("Content-Length", "13")]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_plain_clients_take_the_raw_path() -> None:
    assert raw_exec.supports(redis.Redis())
    assert raw_exec.supports(redis.Redis(unix_socket_path="/nonexistent/redis.sock"))
    assert raw_exec.supports(redis.Redis(connection_pool=redis.BlockingConnectionPool()))


def test_clients_without_a_plain_socket_are_refused() -> None:
    cached = redis.Redis(protocol=3, cache_config=CacheConfig())
    assert not raw_exec.supports(cached), "client-side caching pools hand out socketless proxies"
    assert not raw_exec.supports(redis.Redis(ssl=True))
    assert not raw_exec.supports(Sentinel([("127.0.0.1", 1)]).master_for("primary"))
    assert not raw_exec.supports(fakeredis.FakeRedis())


def test_other_client_kinds_are_refused() -> None:
    class Subclass(redis.Redis):  # type: ignore[type-arg]
        pass

    assert not raw_exec.supports(Subclass())
    cluster = RedisCluster.__new__(RedisCluster)  # connecting needs a cluster; the kind suffices
    assert not raw_exec.supports(cluster)
    assert not raw_exec.supports(object())


def test_a_connection_without_a_socket_is_a_connection_error() -> None:
    with pytest.raises(redis.ConnectionError, match="no socket"):
        raw_exec._socket_of(redis.Connection())
