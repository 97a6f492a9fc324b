"""`telemetry generator` as a real process under granian: ticks, tags, clean stop."""

from __future__ import annotations

import csv
import io
import signal

import pytest
import requests

from tests.helpers import Service, free_port, wait_for

pytestmark = pytest.mark.integration


def counters(rows: str) -> dict[str, list[int]]:
    parsed = list(csv.reader(io.StringIO(rows)))
    head = parsed[0]
    columns = [head.index("SuccessfulRequests"), head.index("FailedRequests")]
    return {row[0]: [int(row[i]) for i in columns] for row in parsed[1:]}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_generator_serves_ticks_and_stops_cleanly(sig: int) -> None:
    port = free_port()
    service = Service(
        ["generator", "--bind", f"127.0.0.1:{port}", "--seed", "1"],
        env={"TELEMETRY_SWITCHES": "25", "TELEMETRY_TICK_INTERVAL": "0.2"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        service.wait_http(f"{url}/healthz")
        first = requests.get(f"{url}/counters", timeout=2)
        assert first.status_code == 200
        assert first.headers["Content-Type"].startswith("text/csv")
        tick = int(first.headers["X-Telemetry-Tick"])

        def next_tick() -> requests.Response | None:
            response = requests.get(f"{url}/counters", timeout=2)
            return response if int(response.headers["X-Telemetry-Tick"]) > tick else None

        second = wait_for(next_tick, timeout=5, message="a later tick")
        assert second.headers["ETag"] != first.headers["ETag"]
        assert float(second.headers["X-Telemetry-Tick-Time"]) > float(
            first.headers["X-Telemetry-Tick-Time"]
        )
        before, after = counters(first.text), counters(second.text)
        assert list(before) == [str(n) for n in range(1, 26)]
        for switch, values in before.items():
            assert all(a >= b for a, b in zip(after[switch], values, strict=True))

        unchanged = requests.get(
            f"{url}/counters", headers={"If-None-Match": second.headers["ETag"]}, timeout=2
        )
        assert unchanged.status_code in (200, 304)  # 200 only if a tick fell in between
        if unchanged.status_code == 304:
            assert unchanged.content == b""
    finally:
        service.signal(sig)
        status = service.process.wait(timeout=8)
        service.stop()
    assert status == 0, service.output()
