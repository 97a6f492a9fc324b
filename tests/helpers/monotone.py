"""Watch that the snapshot never goes back: its source time in Redis, its tick in API answers.

Two threads poll without pause: one reads the meta hash's ``source_time`` and ``source_tick``
from Redis, one asks the API for the ``Tick`` column of switch 1 (the tick a TickingSource
wrote into the table). Each records every value it saw and every step back.
"""

from __future__ import annotations

import threading
import time

import redis
import requests

from telemetry_common.keys import Keys
from tests.helpers.layout import meta_field


class Monotone:
    """Poll Redis and the API until stopped; count the reads and the steps back."""

    def __init__(self, redis_url: str, keys: Keys, api_url: str | None = None) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_timeout=2)
        self.keys = keys
        self.api_url = api_url
        self.redis_reads = 0
        self.api_reads = 0
        self.api_errors: dict[int, int] = {}
        self.redis_regressions: list[tuple[float, float]] = []  # (seen before, seen after)
        self.api_regressions: list[tuple[int, int]] = []
        self.highest_time = 0.0
        self.highest_tick = 0
        self._stop = threading.Event()
        targets = [self._watch_redis] + ([self._watch_api] if api_url else [])
        self._threads = [threading.Thread(target=t, daemon=True) for t in targets]

    def __enter__(self) -> Monotone:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.client.close()

    def _watch_redis(self) -> None:
        while not self._stop.is_set():
            try:
                value = meta_field(self.client, self.keys, "source_time")
            except redis.RedisError:
                time.sleep(0.05)
                continue
            self.redis_reads += 1
            if value is None:
                continue
            seen = float(value)
            if seen < self.highest_time:
                self.redis_regressions.append((self.highest_time, seen))
            self.highest_time = max(self.highest_time, seen)
            time.sleep(0.002)

    def _watch_api(self) -> None:
        url = f"{self.api_url}/telemetry/GetMetric?switch=1&metric=Tick"
        with requests.Session() as session:
            while not self._stop.is_set():
                try:
                    response = session.get(url, timeout=2)
                except requests.RequestException:
                    time.sleep(0.05)
                    continue
                self.api_reads += 1
                if response.status_code != 200:
                    code = response.status_code
                    self.api_errors[code] = self.api_errors.get(code, 0) + 1
                    continue
                tick = int(response.text.splitlines()[1].split(",")[1])
                if tick < self.highest_tick:
                    self.api_regressions.append((self.highest_tick, tick))
                self.highest_tick = max(self.highest_tick, tick)
