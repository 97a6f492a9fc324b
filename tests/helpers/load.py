"""The load loop of the fault tests, and the record of the figures they measure.

This module holds no tests. The load is Python threads on the same cores as the stack: it, not
the API, sets the request rate.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
import requests

PATHS = (
    "/telemetry/GetMetric?switch=3&metric=Latency",
    "/telemetry/ListMetrics?metrics=CpuUsage,Latency,PacketLoss",
    "/telemetry/GetMetric?switch=17&metric=SuccessfulRequests&format=json",
    "/telemetry/ListMetrics?metrics=Temperature",
)


@dataclass(frozen=True)
class Sample:
    """One request of the load loop: when it ran, what it answered."""

    started: float  # time.monotonic()
    finished: float
    wall: float  # time.time() when it started
    status: int  # 0 when no answer came
    age: float | None
    generation: int | None
    retry_after: str | None
    text: str  # the body of an error answer, or the exception

    @property
    def seconds(self) -> float:
        """Return how long the answer took."""
        return self.finished - self.started


class Load:
    """Threads that each send GetMetric and ListMetrics in turn through one requests.Session."""

    def __init__(self, base_url: str, threads: int = 3, paths: Iterable[str] = PATHS) -> None:
        self.base_url = base_url
        self.paths = list(paths)
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_answers(
        self, count: int, status: int = 200, after: float = 0.0, timeout: float = 30.0
    ) -> None:
        """Wait until ``count`` answers of ``status`` that started after ``after`` came back."""

        def enough() -> bool:
            found = [s for s in list(self.samples) if s.status == status and s.started > after]
            return len(found) >= count

        deadline = time.monotonic() + timeout
        while not enough():
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} answers {status} within {timeout:g} s")
            time.sleep(0.02)

    def stop(self) -> list[Sample]:
        """Stop the threads (each within its request timeout) and return every sample."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        return sorted(self.samples, key=lambda sample: sample.started)

    def _run(self) -> None:
        session = requests.Session()
        index = 0
        while not self._stop.is_set():
            path = self.paths[index % len(self.paths)]
            index += 1
            wall, started = time.time(), time.monotonic()
            try:
                answer = session.get(self.base_url + path, timeout=(2, 5))
            except requests.RequestException as exc:
                sample = Sample(started, time.monotonic(), wall, 0, None, None, None, repr(exc))
            else:
                headers = answer.headers
                age, generation = (
                    headers.get("X-Telemetry-Age"),
                    headers.get("X-Telemetry-Generation"),
                )
                sample = Sample(
                    started,
                    time.monotonic(),
                    wall,
                    answer.status_code,
                    float(age) if age else None,
                    int(generation) if generation else None,
                    headers.get("Retry-After"),
                    "" if answer.status_code == 200 else answer.text[:300],
                )
            self.samples.append(sample)  # list.append is atomic
        session.close()


def statuses(samples: Iterable[Sample]) -> dict[int, int]:
    """Return how many answers had each status (0: no answer)."""
    counts: dict[int, int] = {}
    for sample in samples:
        counts[sample.status] = counts.get(sample.status, 0) + 1
    return dict(sorted(counts.items()))


def report(request: pytest.FixtureRequest, **figures: object) -> None:
    """Print the figures a test measured and append them to faults-figures.jsonl in basetemp."""
    name = request.node.name
    line = json.dumps({"test": name, **figures}, default=str)
    print(f"\nFIGURES {line}")
    for key, value in figures.items():
        request.node.user_properties.append((key, value))
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    with (factory.getbasetemp() / "faults-figures.jsonl").open("a") as record:
        record.write(line + "\n")
