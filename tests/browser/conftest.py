"""Fixtures of the browser tests: one Chromium per session, an API process per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.helpers.browser import ApiProcess, PageLog, chromium
from tests.helpers.dashboard import PREFIX


@pytest.fixture(scope="package")  # closed before other tests: Playwright runs an event loop
def browser() -> Iterator[Any]:
    with chromium() as started:
        yield started


@pytest.fixture
def api(real_redis: redis.Redis, redis_url: str) -> Iterator[ApiProcess]:
    process = ApiProcess(redis_url, PREFIX)
    yield process
    process.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, PageLog]]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    log = PageLog()
    log.watch(opened)
    yield opened, log
    context.close()
