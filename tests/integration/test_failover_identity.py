"""A Sentinel failover that loses the last acknowledged snapshots must not reuse their ETags.

Replication is cut (the replica cannot authenticate to the primary any more) while the
refreshers keep writing, so the primary holds snapshots the replica never gets; then the
primary is SIGKILLed and Sentinel promotes the replica. The API reads from the primary, so
clients saw the lost snapshots. Over HTTP only: no ETag may name two different bodies, and
If-None-Match with a tag of a lost snapshot must get 200 with the new body, never 304.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from telemetry_stack.servers.sentinel_set import SentinelSet
from tests.helpers import wait_for
from tests.helpers.topology import SentinelStack, generation_on, writes_resume

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PATH = "/telemetry/ListMetrics?metrics=Latency,CpuUsage"


class Recorder:
    """A thread that keeps asking PATH and records every (ETag, generation, body) it got."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[tuple[str, int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                answer = session.get(self.url, timeout=2)
            except requests.RequestException:
                continue
            if answer.status_code == 200:
                generation = int(answer.headers["X-Telemetry-Generation"])
                self.seen.append((answer.headers["ETag"], generation, answer.text))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.fixture
def stack(sentinel_set: SentinelSet) -> Iterator[SentinelStack]:
    started = SentinelStack(sentinel_set, read_role="primary")
    yield started
    started.stop()


def test_lost_snapshots_never_share_an_etag_with_new_ones(stack: SentinelStack) -> None:
    sentinels = stack.sentinels
    primary, replica = sentinels.primary, sentinels.replica
    wait_for(lambda: generation_on(primary.client()) >= 3, 30, message="three snapshots")
    recorder = Recorder(stack.api_url + PATH)
    try:
        replica.client().config_set("masterauth", "cut-replication")  # the primary has none
        primary.client().client_kill_filter(_type="replica")
        kept = generation_on(replica.client())
        wait_for(
            lambda: any(gen >= kept + 2 for _tag, gen, _body in recorder.seen),
            30,
            message="clients served two snapshots the replica does not have",
        )
        lost_tag, lost_generation, lost_body = recorder.seen[-1]
        assert primary.process is not None
        primary.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        replica.client().config_set("masterauth", "")
        resumed = writes_resume(sentinels, primary.port, kept, timeout=60) - killed
        new = sentinels.node(sentinels.primary_port()).client()
        conditional: list[requests.Response] = []
        # One keep-alive connection: each kept Response holds its own connection open, and
        # granian accepts no more than 512 per worker until an idle one times out (30 s).
        session = requests.Session()
        while generation_on(new) <= lost_generation + 1:  # until the lost numbers are reused
            asked = session.get(
                stack.api_url + PATH, headers={"If-None-Match": lost_tag}, timeout=5
            )
            conditional.append(asked)
            assert time.monotonic() - killed < 60, "the new primary did not pass the lost numbers"
        wait_for(  # the readers saw the new snapshots that took the lost numbers
            lambda: any(gen > lost_generation + 1 for _tag, gen, _body in recorder.seen),
            20,
            message="answers from past the lost generations",
        )
    finally:
        recorder.stop()
    print(
        f"\nFIGURES replica kept generation {kept}, clients saw up to {lost_generation}; "
        f"writes resumed {resumed:.2f} s after the SIGKILL; If-None-Match with the lost tag "
        f"{lost_tag}: {Counter(answer.status_code for answer in conditional)}"
    )
    bodies: dict[str, set[str]] = {}
    for tag, _generation, body in recorder.seen:
        bodies.setdefault(tag, set()).add(body)
    reused = {tag: len(found) for tag, found in bodies.items() if len(found) > 1}
    assert reused == {}, f"ETags that named two different bodies: {reused}"
    statuses = sorted({answer.status_code for answer in conditional})
    assert 304 not in statuses, f"If-None-Match with a lost snapshot's tag got {statuses}"
    assert all(a.text != lost_body for a in conditional if a.status_code == 200)
    assert conditional[-1].status_code == 200
