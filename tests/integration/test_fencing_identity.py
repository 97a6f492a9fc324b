"""Redis restarted empty under load: the generation starts again, but no ETag names two bodies.

A generator, one refresher (interval 1 s) and a two-worker API run on a private Redis that
persists nothing. Two threads ask the API for three answers in turn, each sending back the
ETag it last got for that request; every 200 is recorded with its tag and a digest of its body
(the JSON body without its ``age``, which changes with every answer). Redis is restarted empty
mid-run, so the generation counter starts again at 1 and numbers already served come round.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import pytest
import redis
import requests

from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.faults import Stack, generation
from tests.helpers.load import report

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PATHS = (
    "/telemetry/GetMetric?switch=3&metric=Latency",
    "/telemetry/ListMetrics?metrics=CpuUsage,Latency",
    "/telemetry/GetMetric?switch=5&metric=SuccessfulRequests&format=json",
)
BEFORE = 5  # generations read before the restart, so that the numbers after it come round


@dataclass(frozen=True)
class Answer:
    """One answer: its request, status, tag, generation, snapshot id and body digest."""

    path: str
    status: int
    etag: str
    generation: int
    snapshot: str
    digest: str
    started: float


def digest(path: str, body: bytes) -> str:
    """Return a digest of the body's data (a JSON body without its age)."""
    if "format=json" in path:
        data = json.loads(body)
        data.pop("age")
        body = json.dumps(data, sort_keys=True).encode()
    return hashlib.sha256(body).hexdigest()[:16]


class Readers:
    """Threads that ask for PATHS in turn with If-None-Match, recording every answer."""

    def __init__(self, api_url: str, threads: int = 2) -> None:
        self.api_url = api_url
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self) -> None:
        """Ask until stopped."""
        held: dict[str, str] = {}
        with requests.Session() as session:
            while not self.stop.is_set():
                for path in PATHS:
                    headers = {"If-None-Match": held[path]} if path in held else {}
                    started = time.monotonic()
                    try:
                        got = session.get(self.api_url + path, headers=headers, timeout=2)
                    except requests.RequestException:
                        continue
                    etag = got.headers.get("ETag", "")
                    if got.status_code == 200:
                        held[path] = etag
                    self.answers.append(
                        Answer(
                            path,
                            got.status_code,
                            etag,
                            int(got.headers.get("X-Telemetry-Generation", 0)),
                            got.headers.get("X-Telemetry-Snapshot", ""),
                            digest(path, got.content) if got.status_code == 200 else "",
                            started,
                        )
                    )

    def close(self) -> list[Answer]:
        """Stop asking; return every answer."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        return list(self.answers)


def read(answers: list[Answer]) -> dict[int, set[str]]:
    """Return the generation numbers read so far, each with the snapshot ids that carried it."""
    numbers: defaultdict[int, set[str]] = defaultdict(set)
    for answer in list(answers):
        if answer.status in (200, 304) and answer.snapshot:
            numbers[answer.generation].add(answer.snapshot)
    return numbers


def reused(answers: list[Answer]) -> list[int]:
    """Return the generation numbers that were read under more than one snapshot id."""
    return sorted(n for n, ids in read(answers).items() if len(ids) > 1)


def revalidate_an_old_number(
    api_url: str, readers: Readers, restart: float
) -> tuple[Answer, requests.Response]:
    """Send a pre-restart tag when the answer now carries the same generation number."""
    path = PATHS[1]
    before = [a for a in list(readers.answers) if a.started < restart and a.status == 200]
    old = {a.generation: a for a in before if a.path == path}

    def attempt() -> tuple[Answer, requests.Response] | None:
        now = requests.get(api_url + path, timeout=2).headers.get("X-Telemetry-Generation")
        stale = old.get(int(now)) if now else None
        if stale is None:
            return None
        got = requests.get(api_url + path, headers={"If-None-Match": stale.etag}, timeout=2)
        same = got.headers.get("X-Telemetry-Generation") == str(stale.generation)
        return (stale, got) if same else None

    found: tuple[Answer, requests.Response] = wait_for(attempt, 20, 0.02, "a number served again")
    return found


def test_redis_restarted_empty_no_etag_names_two_bodies(
    private_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    stack = Stack(private_redis.url)
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    try:
        readers = Readers(stack.api_url)
        wait_for(lambda: len(read(readers.answers)) >= BEFORE, 30, 0.05, "generations read")
        highest_before = generation(client)
        stopping = time.monotonic()
        private_redis.stop()
        private_redis.start()
        restarted = time.monotonic()
        wait_for(lambda: generation(client) > 0, 15, 0.02, "a snapshot after the restart")
        stale, revalidated = revalidate_an_old_number(stack.api_url, readers, stopping)
        # The readers, too, have read a number again, under another snapshot id:
        wait_for(lambda: reused(readers.answers), 30, 0.05, "a generation number read again")
        answers = readers.close()
    finally:
        stack.stop()
        client.close()

    bodies: dict[str, set[str]] = defaultdict(set)
    for answer in answers:
        if answer.status == 200:
            bodies[answer.etag].add(answer.digest)
    clashes = {etag: sorted(found) for etag, found in bodies.items() if len(found) > 1}
    after = [a for a in answers if a.started > restarted]
    report(
        request,
        answers=len(answers),
        answers_after_restart=len(after),
        not_modified=sum(a.status == 304 for a in answers),
        unavailable=sum(a.status == 503 for a in answers),
        etags=len(bodies),
        clashes=len(clashes),
        highest_generation_before=highest_before,
        generation_numbers_reused=reused(answers),
        revalidated_status=revalidated.status_code,
    )
    assert clashes == {}
    assert revalidated.status_code == 200, "a tag from before the restart was taken as current"
    assert revalidated.headers["ETag"] != stale.etag
    assert revalidated.headers["X-Telemetry-Snapshot"] != stale.snapshot
    assert digest(stale.path, revalidated.content) != stale.digest
    assert {a.status for a in answers} <= {200, 304, 503}
