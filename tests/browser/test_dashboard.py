"""The dashboard in a real Chromium against a real API process and a real Redis."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo, Table
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.browser import ApiProcess, PageLog
from tests.helpers.dashboard import (
    METRICS,
    PREFIX,
    clean,
    csv_value,
    open_dashboard,
    pick,
    publish,
    table,
    text,
    wait_for_render,
    wait_for_top_sort,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_the_page_shows_the_apis_generation_and_a_switchs_value_as_getmetric_does(
    api: ApiProcess, real_redis: redis.Redis, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    generation = publish(real_redis)
    open_dashboard(tab, api, generation)
    pick(tab, "Latency", "37")
    answer = api.get("/telemetry/GetMetric", params={"switch": "37", "metric": "Latency"})
    assert answer.status_code == 200
    assert answer.headers["X-Telemetry-Generation"] == text(tab, "#generation") == str(generation)
    assert text(tab, "#pick-value") == csv_value(answer)
    assert text(tab, "#pick-unit") == "ms" and text(tab, "#count") == "60"
    assert tab.locator("#top tbody tr").count() == 20
    clean(log, api)


def test_it_renders_each_new_generation_once_and_polls_with_if_none_match(
    api: ApiProcess, real_redis: redis.Redis, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    open_dashboard(tab, api, publish(real_redis, seed=1))
    pick(tab, "CpuUsage", "5")
    before = text(tab, "#pick-value")
    newer = publish(real_redis, seed=2)
    wait_for_render(tab, newer, 10)
    answer = api.get("/telemetry/GetMetric", params={"switch": "5", "metric": "CpuUsage"})
    assert text(tab, "#pick-value") == csv_value(answer) != before
    polls = len(log.polls())
    # Playwright hands over the page's events while it runs a call: wait in the page.
    wait_for(
        lambda: tab.wait_for_timeout(100) or len(log.polls()) >= polls + 3, 15, message="3 polls"
    )
    renders = tab.evaluate("performance.getEntriesByName('dashboard:rendered').length")
    assert renders == 2  # one per generation, none for the polls answered 304
    assert all("if-none-match" in headers for headers in log.polls()[1:])
    assert tab.locator("#spark-line").get_attribute("points").count(",") == 2  # 2 generations
    clean(log, api)


def test_it_says_the_data_is_stale_after_the_apis_503_and_recovers_by_itself(
    api: ApiProcess, real_redis: redis.Redis, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    open_dashboard(tab, api, publish(real_redis, ttl=5))  # long enough to load the page first
    wait_for(lambda: text(tab, "#state").startswith("stale since"), 20, message="stale")
    answer = api.get("/telemetry/ListMetrics", params={"metrics": "Latency"})
    assert answer.status_code == 503
    said = answer.text.split(": ", 1)[1].split(" (")[0]  # "the data is stale since <time>"
    assert text(tab, "#detail").startswith(said)
    assert "stale" in str(tab.locator("body").get_attribute("class"))
    newer = publish(real_redis, seed=3)
    wait_for(lambda: text(tab, "#generation") == str(newer), 15, message="recovery")
    wait_for(lambda: text(tab, "#state") == "fresh", 5, message="fresh again")
    assert tab.locator("#detail").is_hidden()
    # Chromium itself logs each answer >= 400 as a console error: those 503s were asked for.
    log.errors[:] = [e for e in log.errors if "503 (Service Unavailable)" not in e]
    clean(log, api)


def test_it_says_redis_is_unreachable_and_recovers_when_redis_returns(
    private_redis: RedisServer, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    client = redis.Redis.from_url(private_redis.url)
    api = ApiProcess(private_redis.url, PREFIX)
    try:
        open_dashboard(tab, api, publish(client))
        private_redis.stop()
        wait_for(lambda: text(tab, "#state") == "Redis unreachable", 15, message="unreachable")
        assert text(tab, "#detail").startswith("Redis is unreachable")
        private_redis.start()
        publish(redis.Redis.from_url(private_redis.url))
        wait_for(lambda: text(tab, "#state") == "fresh", 20, message="recovery")
        answer = api.get("/telemetry/switches")
        assert answer.status_code == 200
        assert text(tab, "#generation") == answer.headers["X-Telemetry-Generation"]
        log.errors[:] = [e for e in log.errors if "503 (Service Unavailable)" not in e]
        clean(log, api)
    finally:
        api.stop()


def test_counters_show_as_rates_and_the_top_table_is_the_apis_order(
    api: ApiProcess, real_redis: redis.Redis, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    now = time.time()
    for seed, tick_time in ((1, now - 5.0), (2, now)):  # two generations 5 s apart at the source
        ids, rows = table(60, seed)
        data = Table.from_rows(ids, METRICS, rows)
        newest = write_snapshot(
            real_redis, Keys(PREFIX), data, ttl=60, source=SourceInfo(tick_time=tick_time)
        )
    open_dashboard(tab, api, newest)
    pick(tab, "SuccessfulRequests", "7")
    rate = api.get(
        "/telemetry/GetMetric",
        params={"switch": "7", "metric": "SuccessfulRequests", "rate": "true"},
    )
    assert rate.status_code == 200 and rate.headers["X-Telemetry-Rate-Interval"] == "5.000"
    assert text(tab, "#pick-value") == csv_value(rate)
    assert text(tab, "#pick-unit") == "requests/s"
    for header, query in (
        ("Latency", {"metrics": "Latency", "sort": "-Latency"}),
        ("SuccessfulRequests", {"metrics": "SuccessfulRequests", "sort": "-SuccessfulRequests"}),
    ):
        if header != "Latency" or tab.evaluate("view.sortBy") != "Latency":
            tab.get_by_role("button", name=header).click()
        wait_for_top_sort(tab, "-" + header)
        rated = {"rate": "true"} if header == "SuccessfulRequests" else {}
        answer = api.get("/telemetry/ListMetrics", params={**query, **rated, "limit": "20"})
        expected = [line.split(",")[0] for line in answer.text.splitlines()[1:]]
        shown = tab.locator("#top tbody tr td:nth-child(1)").all_inner_texts()
        assert [cell.strip() for cell in shown] == expected and len(expected) == 20
    clean(log, api)
