"""Redis URLs: standalone, Sentinel and Cluster forms, their errors, and masked passwords."""

from __future__ import annotations

import pytest
import redis
from redis.sentinel import SentinelConnectionPool

from api_service.config import ApiConfig
from refresher_worker.settings import RefresherSettings
from telemetry_common.redis_client import connect, is_cluster
from telemetry_common.redis_settings import check_cluster_prefix
from telemetry_common.redis_urls import UrlError, parse, redacted
from telemetry_common.settings import ConfigError
from telemetry_common.variables import REDIS_URL

SENTINEL = "redis+sentinel://u:pw@10.0.0.1,10.0.0.2:26380,[::1]:5000/cache/3?role=replica"


def test_sentinel_url_names_hosts_service_db_and_role() -> None:
    target = parse(SENTINEL + "&sentinel_password=s%25pw&socket_timeout=1.5")
    assert target.kind == "sentinel"
    assert target.hosts == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 5000))
    assert (target.service, target.role) == ("cache", "replica")
    assert target.sentinel_auth == {"password": "s%pw"}
    assert target.options["db"] == 3
    assert (target.options["username"], target.options["password"]) == ("u", "pw")
    assert target.options["socket_timeout"] == 1.5
    assert "ssl" not in target.options


def test_tls_sentinel_and_cluster_urls() -> None:
    assert parse("rediss+sentinel://h/svc").options["ssl"] is True
    cluster = parse("rediss+cluster://a:7000,b:7001")
    assert cluster.is_cluster and cluster.hosts == (("a", 7000), ("b", 7001))
    assert cluster.options["ssl"] is True and "db" not in cluster.options


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://h:1", "expected a redis://"),
        ("redis+sentinel://h", "expected /<service>[/<db>]"),
        ("redis+sentinel://h/svc/x", "database 'x' is not a whole number"),
        ("redis+sentinel://h/svc?role=leader", "role='leader': expected primary or replica"),
        ("redis+sentinel://h:0/svc", "not in 1..65535"),
        ("redis+sentinel:///svc", "no host"),
        ("redis+cluster://h", "has no port"),
        ("redis+cluster://h:7000/2", "only database 0"),
        ("redis+sentinel://h/svc?socket_timeout=soon", "socket_timeout"),
    ],
)
def test_malformed_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(UrlError, match=message.replace("[", r"\[").replace("?", r"\?")):
        parse(url)


def test_bad_url_names_the_variable_without_its_password() -> None:
    env = {"TELEMETRY_REDIS_URL": "redis+sentinel://u:secret@h/svc/x"}
    with pytest.raises(ConfigError) as info:
        REDIS_URL.read(env)
    assert str(info.value).startswith("TELEMETRY_REDIS_URL='redis+sentinel://u:***@h/svc/x'")
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@h:1/0", "redis://:***@h:1/0"),
        ("redis://u:pw@h:1/0", "redis://u:***@h:1/0"),
        (
            "redis+sentinel://u:pw@a,b:1/s?sentinel_password=x&db=1",
            "redis+sentinel://u:***@a,b:1/s?sentinel_password=***&db=1",
        ),
        ("rediss+cluster://a:1,b:2?password=pw", "rediss+cluster://a:1,b:2?password=***"),
        ("unix:///tmp/r.sock?db=1", "unix:///tmp/r.sock?db=1"),
    ],
)
def test_passwords_are_masked(url: str, shown: str) -> None:
    assert redacted(url) == shown


def test_connect_builds_the_client_each_url_names() -> None:
    plain = connect("redis://127.0.0.1:1/0")
    assert type(plain) is redis.Redis and not is_cluster(plain)
    primary = connect("redis+sentinel://127.0.0.1:1/svc/2")
    assert isinstance(primary.connection_pool, SentinelConnectionPool)
    assert primary.connection_pool.is_master and primary.connection_pool.service_name == "svc"
    replica = connect("redis+sentinel://127.0.0.1:1/svc?role=replica")
    assert not replica.connection_pool.is_master


def test_cluster_client_needs_a_reachable_node() -> None:
    with pytest.raises(redis.ConnectionError, match="cannot be connected"):
        connect("redis+cluster://127.0.0.1:1", timeout=0.2, retries=0)
    assert not is_cluster(redis.Redis())


def test_read_url_defaults_to_the_write_url() -> None:
    assert ApiConfig.from_env({"TELEMETRY_REDIS_URL": "redis://w/0"}).read_url is None
    env = {"TELEMETRY_REDIS_URL": "redis://w/0", "TELEMETRY_REDIS_READ_URL": "redis://replica/0"}
    assert ApiConfig.from_env(env).read_url == "redis://replica/0"


def test_queue_url_is_required_on_a_cluster() -> None:
    assert RefresherSettings.from_env({"TELEMETRY_REDIS_URL": "redis://w/0"}).queue_url is None
    cluster = {"TELEMETRY_REDIS_URL": "redis+cluster://a:1", "TELEMETRY_KEY_PREFIX": "{t}"}
    with pytest.raises(ConfigError, match=r"TELEMETRY_QUEUE_URL is required .* rq cannot run"):
        RefresherSettings.from_env(cluster)
    env = {"TELEMETRY_QUEUE_URL": "redis+cluster://a:1"}
    with pytest.raises(ConfigError, match="rq cannot run on a Redis Cluster"):
        RefresherSettings.from_env(env)
    env = cluster | {"TELEMETRY_QUEUE_URL": "redis://q/1"}
    assert RefresherSettings.from_env(env).queue_url == "redis://q/1"
    assert ApiConfig.from_env(env).queue_url == "redis://q/1"


@pytest.mark.parametrize("prefix", ["telemetry", "{}telemetry", "tele{metry"])
def test_cluster_refuses_a_prefix_without_hash_tag(prefix: str) -> None:
    with pytest.raises(ConfigError, match=r"needs a hash tag .* use \{"):
        check_cluster_prefix("redis+cluster://a:1", prefix)
    check_cluster_prefix("redis://a:1/0", prefix)


def test_cluster_accepts_a_tagged_prefix() -> None:
    check_cluster_prefix("redis+cluster://a:1", "{telemetry}")
    check_cluster_prefix("redis+cluster://a:1", "site-{a}")


def test_replica_reads_skip_replicas_out_of_sync() -> None:
    from telemetry_common.redis_client import InSyncSentinel

    def replica(port: int, link: str, sdown: bool = False) -> dict[str, object]:
        return {"ip": "h", "port": port, "master-link-status": link, "is_sdown": sdown,
                "is_odown": False}  # fmt: skip

    sentinel = InSyncSentinel([("127.0.0.1", 1)])
    found = sentinel.filter_slaves([replica(1, "ok"), replica(2, "err"), replica(3, "ok", True)])
    assert found == [("h", 1)]
