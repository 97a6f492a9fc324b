"""The refresh as an RQ job: run by a SimpleWorker, one at a time, its id freed when it ends."""

from __future__ import annotations

import logging

import fakeredis
import pytest
import redis
from rq import SimpleWorker
from rq.job import Job

from refresher_worker import jobs
from refresher_worker.settings import RefresherSettings
from telemetry_common import jobs as telemetry_jobs
from telemetry_common.jobs import REFRESH_FUNCTION, enqueue_refresh, refresh_queue
from telemetry_common.keys import REFRESH_JOB_ID, Keys
from telemetry_common.reader import read_info
from tests.helpers import free_port, wait_for
from tests.helpers.source import Reply, StubSource


def work(client: fakeredis.FakeRedis) -> None:
    queue = refresh_queue(client)
    SimpleWorker([queue], connection=client, serializer=queue.serializer).work(burst=True)


def test_the_job_function_is_the_one_the_api_enqueues() -> None:
    module, _, name = REFRESH_FUNCTION.rpartition(".")
    assert module == jobs.__name__ and name == jobs.refresh.__name__


def test_a_queued_refresh_runs_once_and_frees_its_id(
    fake: fakeredis.FakeRedis, stub: StubSource
) -> None:
    jobs.configure(RefresherSettings(source_url=stub.url, fetch_timeout=0.5), "w.0", client=fake)
    assert enqueue_refresh(fake, reason="test")
    assert not enqueue_refresh(fake, reason="a second ask")  # one fetch, however many ask
    work(fake)
    assert read_info(fake, Keys()).generation == 1
    assert len(stub.seen_etags) == 1
    assert enqueue_refresh(fake, reason="next")  # the finished job left no trace
    work(fake)
    assert fake.hget(Keys().status, "refreshes_unchanged") == b"1"


def test_an_expected_failure_is_recorded_and_the_job_still_succeeds(
    fake: fakeredis.FakeRedis, stub: StubSource
) -> None:
    stub.reply = Reply(body=b"switch\n")
    jobs.configure(RefresherSettings(source_url=stub.url, fetch_timeout=0.5), "w.0", client=fake)
    enqueue_refresh(fake, reason="test")
    work(fake)
    assert fake.hget(Keys().status, "last_error_kind") == b"invalid_csv"
    assert enqueue_refresh(fake, reason="again")  # not kept as a failed job


def test_a_dead_redis_during_the_job_is_reported_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=None)
    jobs.configure(RefresherSettings(fetch_timeout=0.5), "w.0", client=dead)
    caplog.set_level(logging.DEBUG, logger="refresher_worker")
    assert jobs.refresh() == "redis"
    assert jobs.refresh() == "redis"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "Redis (refresh job) down" in warnings[0]


def test_an_unconfigured_process_reads_its_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEMETRY_KEY_PREFIX", "elsewhere")
    monkeypatch.setenv("TELEMETRY_REFRESH_INTERVAL", "2")
    context = jobs.context()
    assert context.keys == Keys("elsewhere")
    assert context.settings.interval == 2.0 and context.settings.fetch_timeout == 1.2


def test_an_unexpected_error_fails_the_job_briefly_and_shows_in_the_status(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(jobs, "refresh_once", broken)
    jobs.configure(RefresherSettings(fetch_timeout=0.5), "w.0", client=fake)
    enqueue_refresh(fake, reason="test")
    work(fake)
    assert fake.hget(Keys().status, "last_error") == b"RuntimeError('a bug')"
    assert fake.hget(Keys().status, "last_error_kind") == b"internal_error"
    # The failed job holds the id for FAILURE_TTL seconds, then frees it by itself.
    wait_for(lambda: enqueue_refresh(fake, reason="again"), 10, message="the id freed")


def test_a_failed_job_holds_the_id_until_its_failure_ttl(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(jobs, "refresh_once", broken)
    monkeypatch.setattr(telemetry_jobs, "FAILURE_TTL", 60)  # no busy machine takes this long
    jobs.configure(RefresherSettings(fetch_timeout=0.5), "w.0", client=fake)
    enqueue_refresh(fake, reason="test")
    work(fake)
    assert not enqueue_refresh(fake, reason="at once")
    assert 0 < fake.ttl(Job.key_for(REFRESH_JOB_ID)) <= 60
