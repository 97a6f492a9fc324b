"""The refresher's RQ worker keeps the process's signal handlers (the one rq internal it uses)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import fakeredis
import pytest
import rq
from rq import SimpleWorker

from refresher_worker.worker import SIGNAL_HOOK, RefreshWorker
from telemetry_common.keys import QUEUE_NAME


def ours(signum: int, frame: FrameType | None) -> None:
    """Stand for the refresher's own handler."""


@pytest.fixture
def own_handlers() -> Iterator[None]:
    previous = {sig: signal.signal(sig, ours) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def test_rq_still_has_the_method_the_worker_overrides() -> None:
    assert callable(getattr(SimpleWorker, SIGNAL_HOOK, None)), (
        f"rq {rq.__version__} has no SimpleWorker.{SIGNAL_HOOK} any more: RefreshWorker's "
        "override no longer keeps the refresher's signal handlers; find rq's new way to do it"
    )


@pytest.mark.usefixtures("own_handlers")
def test_rq_replaces_the_handlers_through_that_method(fake: fakeredis.FakeRedis) -> None:
    SimpleWorker([QUEUE_NAME], connection=fake).work(burst=True)
    assert signal.getsignal(signal.SIGTERM) is not ours, (
        f"rq {rq.__version__} no longer installs its handlers in work(): drop the override"
    )


@pytest.mark.usefixtures("own_handlers")
def test_a_refresh_worker_leaves_the_process_handlers_alone(fake: fakeredis.FakeRedis) -> None:
    RefreshWorker([QUEUE_NAME], connection=fake).work(burst=True)
    assert signal.getsignal(signal.SIGTERM) is ours
    assert signal.getsignal(signal.SIGINT) is ours
