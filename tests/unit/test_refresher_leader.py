"""Leader election on one fake Redis: one leader, takeover on release or expiry, one enqueuer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import fakeredis
import pytest
import redis

from refresher_worker import leader
from refresher_worker.leader import LeaderLock
from refresher_worker.scheduler import Scheduler
from refresher_worker.settings import RefresherSettings
from telemetry_common.jobs import request_refresh
from telemetry_common.keys import Keys

KEY = Keys().leader


def test_of_two_electors_exactly_one_leads(fake: fakeredis.FakeRedis) -> None:
    a, b = LeaderLock(fake, KEY, "a", 2.0), LeaderLock(fake, KEY, "b", 2.0)
    assert [a.claim(), b.claim(), a.claim(), b.claim()] == [True, False, True, False]
    assert a.is_leader() and not b.is_leader()
    assert a.holder() == "a" == fake.get(KEY).decode()


def test_a_released_lock_is_taken_by_the_other(fake: fakeredis.FakeRedis) -> None:
    a, b = LeaderLock(fake, KEY, "a", 2.0), LeaderLock(fake, KEY, "b", 2.0)
    a.claim()
    assert a.release() and not a.is_leader()
    assert b.claim() and b.holder() == "b"
    assert not a.claim()
    assert not a.release()  # releasing someone else's lock does nothing
    assert b.holder() == "b"


def test_a_leader_that_stops_renewing_loses_the_lock_at_its_ttl(fake: fakeredis.FakeRedis) -> None:
    a, b = LeaderLock(fake, KEY, "a", 0.3), LeaderLock(fake, KEY, "b", 0.3)
    a.claim()
    assert not b.claim()
    time.sleep(0.4)  # "a" died: no renewal
    assert b.claim()
    assert not a.claim() and not a.is_leader()


def test_renewing_keeps_the_lock_past_its_ttl(fake: fakeredis.FakeRedis) -> None:
    a, b = LeaderLock(fake, KEY, "a", 2.0), LeaderLock(fake, KEY, "b", 2.0)
    began = time.monotonic()
    while time.monotonic() - began < 2.5:  # renewals every 0.1 s keep it past its TTL
        assert a.claim() and not b.claim()
        time.sleep(0.1)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_leadership_lapses_locally_when_redis_stops_answering(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(leader, "time", clock)
    a = LeaderLock(fake, KEY, "a", 0.2)
    a.claim()
    clock.now += 0.1
    a.lost_contact()
    assert a.is_leader()  # the last renewal still holds
    clock.now += 0.1
    a.lost_contact()
    assert not a.leading and not a.is_leader()


class Counting:
    """An enqueue function that counts calls and says yes."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.times: list[float] = []  # time.monotonic() of each call

    def __call__(self, connection: object, *, reason: str, timeout: int, job_id: str) -> bool:
        self.calls.append(reason)
        self.times.append(time.monotonic())
        return True


def scheduler(
    fake: fakeredis.FakeRedis, name: str, enqueue: Counting, interval: float = 0.2
) -> Scheduler:
    """Return a scheduler whose lock outlives any pause of a loaded machine (5 s)."""
    settings = RefresherSettings(
        interval=interval, ttl=int(interval) + 2, fetch_timeout=interval / 2, leader_ttl=5.0
    )
    return Scheduler(fake, settings, name, threading.Event(), enqueue=enqueue)


def run_until(done: Callable[[], bool], *schedulers: Scheduler, timeout: float = 20.0) -> None:
    """Step the schedulers until ``done``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not done within {timeout:g} s"
        for each in schedulers:
            each.step()
        time.sleep(0.02)


def test_only_the_leader_enqueues_once_per_interval(fake: fakeredis.FakeRedis) -> None:
    a_calls, b_calls = Counting(), Counting()
    a, b = scheduler(fake, "a", a_calls), scheduler(fake, "b", b_calls)
    run_until(lambda: len(a_calls.calls) >= 5, a, b)
    # The schedule: the k-th enqueue is due k intervals after the first, never sooner (a late
    # step skips the ticks it missed instead of catching up); 0.05 s for the step's own work.
    first = a_calls.times[0]
    assert all(at >= first + k * 0.2 - 0.05 for k, at in enumerate(a_calls.times))
    assert b_calls.calls == []
    assert fake.hget(Keys().status, "leader") == b"a"
    assert fake.exists(Keys().heartbeat("a"), Keys().heartbeat("b")) == 2


def test_a_standby_takes_over_when_the_leader_stops(fake: fakeredis.FakeRedis) -> None:
    a_calls, b_calls = Counting(), Counting()
    a, b = scheduler(fake, "a", a_calls), scheduler(fake, "b", b_calls)
    run_until(lambda: len(a_calls.calls) >= 1, a, b)
    a.stop.set()
    a.done.set()
    a.run()  # gives the lock up at once and removes its heartbeat
    assert not fake.exists(KEY) and not fake.exists(Keys().heartbeat("a"))
    b.step()
    assert fake.get(KEY) == b"b" and fake.hget(Keys().status, "leader") == b"b"
    run_until(lambda: len(b_calls.calls) >= 2, b)
    assert b_calls.times[1] >= b_calls.times[0] + 0.2 - 0.05


@pytest.mark.parametrize("age", [0.5, 7.0])
def test_a_new_leader_continues_the_cadence_of_the_snapshot(
    fake: fakeredis.FakeRedis, age: float
) -> None:
    fake.hset(
        Keys().at(1).meta, mapping={"generation": 1, "written_at": f"{time.time() - age:.3f}"}
    )
    fake.set(Keys().current, 1)
    calls = Counting()
    a = scheduler(fake, "a", calls, interval=5.0)
    a.step()
    assert len(calls.calls) == (1 if age > 5.0 else 0)  # due at once only if a tick was missed
    assert a.next_tick - time.monotonic() <= 5.0 - (0 if age > 5.0 else age)


def test_the_leader_answers_the_apis_request_at_once_and_a_standby_leaves_it(
    fake: fakeredis.FakeRedis,
) -> None:
    fake.hset(Keys().at(1).meta, mapping={"generation": 1, "written_at": f"{time.time():.3f}"})
    fake.set(Keys().current, 1)
    a_calls, b_calls = Counting(), Counting()
    a, b = scheduler(fake, "a", a_calls, interval=60.0), scheduler(fake, "b", b_calls)
    a.step()
    b.step()
    assert a_calls.calls == [] and b_calls.calls == []  # the next tick is a minute away
    request_refresh(fake, Keys(), reason="the API found no fresh snapshot")
    b.step()
    assert b_calls.calls == [] and fake.exists(Keys().refresh_request)  # left to the leader
    a.step()
    assert a_calls.calls == ["tick of a"] and not fake.exists(Keys().refresh_request)
    assert a.next_tick - time.monotonic() > 59.0  # the cadence goes on from the refresh
    a.step()
    assert a_calls.calls == ["tick of a"]  # one request, one refresh


def test_a_leader_names_itself_again_when_redis_comes_back_empty(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Counting()
    a = scheduler(fake, "a", calls, interval=5.0)
    a.step()
    assert fake.hget(Keys().status, "leader") == b"a" and len(calls.calls) == 1

    def down() -> bool:
        raise redis.ConnectionError("Connection refused")

    with monkeypatch.context() as outage:  # shorter than the lock's TTL: still leading after
        outage.setattr(a.lock, "claim", down)
        a.step()
    fake.flushall()  # Redis restarted without its data
    a.step()
    assert fake.hget(Keys().status, "leader") == b"a"
    assert len(calls.calls) == 2  # no snapshot any more: a refresh at once, not in 5 s
