"""The refresher's RQ worker: rq's signal handling, through public methods, stops the process."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from types import FrameType

import fakeredis
import pytest
import rq
from rq import SimpleWorker
from rq.worker import WorkerStatus

from refresher_worker.worker import RefreshWorker
from telemetry_common.keys import QUEUE_NAME


def ours(signum: int, frame: FrameType | None) -> None:
    """Stand for the refresher's own handler."""


@pytest.fixture
def own_handlers() -> Iterator[None]:
    previous = {sig: signal.signal(sig, ours) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def test_the_worker_overrides_public_rq_methods_only() -> None:
    own = {name for name in vars(RefreshWorker) if not name.startswith("__")}
    assert own == {"max_connection_wait_time", "stop_event", "request_stop",
                   "request_force_stop", "subscribe"}  # fmt: skip
    for name in ("request_stop", "request_force_stop", "subscribe"):
        assert callable(getattr(SimpleWorker, name)), f"rq {rq.__version__} has no {name}"


def test_a_signal_stops_the_process_after_the_current_refresh(fake: fakeredis.FakeRedis) -> None:
    stop = threading.Event()
    worker = RefreshWorker([QUEUE_NAME], connection=fake)
    worker.stop_event = stop
    worker.set_state(WorkerStatus.BUSY)  # as during a refresh: rq waits for it to end
    worker.request_stop(signal.SIGTERM, None)
    assert stop.is_set()
    assert signal.getsignal(signal.SIGTERM) == worker.request_force_stop
    worker.request_force_stop(signal.SIGTERM, None)  # a second signal: no SystemExit


@pytest.mark.usefixtures("own_handlers")
def test_rq_replaces_the_handlers_with_the_workers_own(fake: fakeredis.FakeRedis) -> None:
    RefreshWorker([QUEUE_NAME], connection=fake).work(burst=True)
    handler = signal.getsignal(signal.SIGTERM)
    assert getattr(handler, "__func__", None) is RefreshWorker.request_stop
