"""`telemetry status` against fakeredis: no snapshot, a fresh one with a leader, a queued job."""

from __future__ import annotations

import argparse
import json
import time

import fakeredis
import pytest
from rq.job import JobStatus

from refresher_worker.stale import handover_id
from refresher_worker.status import Outcome, beat, record
from telemetry_common.jobs import enqueue_refresh, refresh_queue
from telemetry_common.keys import Keys
from telemetry_stack.cli import build_parser, main
from telemetry_stack.status import command as status
from tests.helpers import free_port
from tests.helpers.api import put_snapshot
from tests.helpers.jobs import started_by
from tests.helpers.layout import meta_field

KEYS = Keys()
ERROR = "http://gen:9001/counters: no complete answer within 3 s"
FENCED = "write discarded (token 1, ...): Redis holds a snapshot of newer source data (...)"


def args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["status", *argv])


def show(
    fake: fakeredis.FakeRedis, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    code = status.run(args(*argv), client=fake)
    return code, capsys.readouterr().out


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEMETRY_REDIS_URL", "REDIS_URL", "TELEMETRY_KEY_PREFIX"):
        monkeypatch.delenv(name, raising=False)


def running_system(fake: fakeredis.FakeRedis) -> int:
    """Write a snapshot, a success then an error, a leader and two beating refreshers."""
    generation = put_snapshot(fake)
    record(fake, KEYS, Outcome("written", 0.05, generation=generation, rows=3, columns=4), "a")
    record(fake, KEYS, Outcome("failed", 3.0, error_kind="source_timeout", error=ERROR), "b")
    record(fake, KEYS, Outcome("fenced", 0.2, error_kind="older_source", error=FENCED), "b")
    fake.set(KEYS.leader, "host-1-ab12")
    beat(fake, KEYS, "host-1-ab12", "leader", 5)
    beat(fake, KEYS, "host-2-cd34", "standby", 5)
    return generation


def test_no_snapshot_says_so_and_exits_1(
    fake: fakeredis.FakeRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = show(fake, capsys)
    assert code == 1
    assert text.splitlines()[0] == (
        "snapshot    none: no fresh snapshot in Redis (never written, or expired)"
    )
    assert "no leader; 0 beating" in text and "last success never; last error never" in text
    assert "fencing     no write recorded; 0 tokens issued; 0 writes fenced (" in text
    code, out = show(fake, capsys, "--json")
    report = json.loads(out)
    assert code == 1 and report["fresh"] is False and report["snapshot"] is None
    assert report["refresher"]["leader"] is None and report["refresher"]["processes"] == []
    assert report["queue"] == {
        "name": "telemetry",
        "queued": 0,
        "started": 0,
        "workers": 0,
        "refresh_job": None,
        "handover_jobs": [],
    }


def test_a_fresh_snapshot_with_a_leader_and_an_error(
    fake: fakeredis.FakeRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    generation = running_system(fake)
    code, text = show(fake, capsys)
    assert code == 0
    lines = text.splitlines()
    assert lines[0].startswith(f"snapshot    generation {generation}, 2.")
    snapshot = meta_field(fake, KEYS, "snapshot").decode()
    assert lines[0].endswith(f"(3 switches x 4 metrics), id {snapshot}")
    assert lines[1] == (
        "refreshers  leader host-1-ab12; 2 beating: host-1-ab12 (leader), host-2-cd34 (standby)"
    )
    assert "state failing:source_timeout; refreshes 1 written, 0 unchanged, 1 failed" in lines[2]
    assert "last success " in lines[3] and f"s ago (source_timeout): {ERROR}" in lines[3]
    assert lines[4].startswith(
        "fencing     last write token 1 of 1 issued; 1 write fenced (discarded as older), last "
    )
    assert lines[4].endswith(" s ago (older_source)")
    code, out = show(fake, capsys, "--json")
    report = json.loads(out)
    assert code == 0 and report["fresh"] is True
    assert report["snapshot"]["generation"] == generation
    assert 2.0 <= report["snapshot"]["age"] < 10 and report["snapshot"]["switches"] == 3
    refresher = report["refresher"]
    assert refresher["leader"] == "host-1-ab12"
    roles = {p["name"]: p["role"] for p in refresher["processes"]}
    assert roles == {"host-1-ab12": "leader", "host-2-cd34": "standby"}
    assert (refresher["last_error_kind"], refresher["last_error"]) == ("source_timeout", ERROR)
    assert refresher["last_success_at"] <= refresher["last_error_at"] <= time.time()
    assert refresher["refreshes"] == {"written": 1, "unchanged": 0, "failed": 1, "fenced": 1}
    assert (refresher["last_fenced_reason"], refresher["last_fenced"]) == ("older_source", FENCED)
    assert report["fence"] == {
        "issued": 1,
        "token": 1,
        "source_time": report["snapshot"]["source_time"],
        "snapshot": snapshot,
    }


def test_a_queued_refresh_job_shows_in_the_queue(
    fake: fakeredis.FakeRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    assert enqueue_refresh(fake, reason="test")
    code, text = show(fake, capsys)
    assert code == 1
    assert "queue       telemetry: 1 queued, 0 running, 0 workers; refresh job queued" in text
    queue = json.loads(show(fake, capsys, "--json")[1])["queue"]
    assert (queue["queued"], queue["refresh_job"]) == (1, "queued")


def test_a_stuck_job_and_its_hand_over_show_and_status_changes_nothing_in_the_queue(
    fake: fakeredis.FakeRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    job, execution = started_by(fake, "host-1-ab12.0")
    queue = refresh_queue(fake)
    with fake.pipeline() as pipe:  # its worker froze past rq's limit: the execution expires now
        queue.started_job_registry.add_execution(execution, pipe, ttl=0, xx=True)
        pipe.execute()
    handover = handover_id("host-1-ab12.0")
    assert enqueue_refresh(fake, reason="the refresh job is stuck", job_id=handover)
    before = {key: fake.dump(key) for key in fake.keys("rq:*")}
    text = show(fake, capsys)[1]
    assert (
        "queue       telemetry: 1 queued, 1 running, 0 workers; refresh job started; "
        "hand-over job telemetry-refresh-after-host-1-ab12-0"
    ) in text
    queue_report = json.loads(show(fake, capsys, "--json")[1])["queue"]
    assert queue_report["handover_jobs"] == [handover]
    # rq would fail the abandoned job as it counted it: status leaves that to the refreshers.
    assert {key: fake.dump(key) for key in fake.keys("rq:*")} == before
    assert job.get_status() == JobStatus.STARTED


def test_the_key_prefix_is_honoured(
    fake: fakeredis.FakeRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    put_snapshot(fake, prefix="{elsewhere}")
    assert show(fake, capsys)[0] == 1
    assert show(fake, capsys, "--key-prefix", "{elsewhere}")[0] == 0


def test_a_dead_redis_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert main(["status", "--redis-url", url]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"telemetry status: Redis at {url} does not answer: ")
    assert captured.err.count("\n") == 1


def test_a_bad_setting_exits_2_and_help_explains_the_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["status", "--redis-url", "localhost:6379"]) == 2
    assert "--redis-url: TELEMETRY_REDIS_URL='localhost:6379'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0 when a fresh snapshot exists, 1 when there is none" in text and "--json" in text


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, "never"),
        (0.04, "0.0 s ago"),
        (4.25, "4.2 s ago"),
        (150, "2 min ago"),
        (7200, "2 h ago"),
        (3 * 86400, "3 d ago"),
    ],
)
def test_ages_read_at_a_glance(seconds: float | None, words: str) -> None:
    assert status.ago(seconds) == words
