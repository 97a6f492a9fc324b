"""The dashboard at 10,000 switches, with the keyboard alone, and in a narrow window."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis

from tests.helpers.browser import ApiProcess, PageLog
from tests.helpers.dashboard import (
    clean,
    open_dashboard,
    publish,
    text,
    wait_for_render,
    wait_for_top_sort,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

logger = logging.getLogger(__name__)


def test_the_first_render_of_10000_switches_shows_every_switch_and_is_timed_by_the_page(
    api: ApiProcess, real_redis: redis.Redis, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    open_dashboard(tab, api, publish(real_redis, switches=10_000))
    assert text(tab, "#count") == "10,000"
    render = tab.evaluate("performance.getEntriesByName('dashboard:first-render')[0].duration")
    since_start = tab.evaluate("performance.getEntriesByName('dashboard:rendered')[0].startTime")
    logger.warning(
        "first render of 10,000 switches: %.1f ms (%.0f ms after navigation)", render, since_start
    )
    # parse, rates, top table, heatmap: a figure to read, not a bound (the machines are noisy)
    assert tab.evaluate("performance.getEntriesByName('dashboard:first-render').length") == 1
    size = tab.evaluate(
        "[document.getElementById('map').width, document.getElementById('map').height]"
    )
    assert size[0] >= 300 and size[1] >= 100  # every switch a cell of its own, readable
    clean(log, api)


def test_the_keyboard_alone_picks_a_switch_and_sorts_the_table(
    api: ApiProcess, real_redis: redis.Redis, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    open_dashboard(tab, api, publish(real_redis))
    tab.focus("#map")
    for key in ["ArrowRight", "ArrowRight", "ArrowDown", "Enter"]:
        tab.keyboard.press(key)
    cols = tab.evaluate("Math.floor(document.getElementById('map').width / view.grid.cell)")
    assert text(tab, "#pick-switch") == str(3 + cols)  # row-major: right, right, one row down
    button = tab.get_by_role("button", name="Temperature")
    button.focus()
    tab.keyboard.press("Enter")
    wait_for_top_sort(tab, "-Temperature")
    header = tab.locator("#top th[aria-sort]")
    assert (
        header.get_attribute("aria-sort") == "descending" and "Temperature" in header.inner_text()
    )
    column = [float(t) for t in tab.locator("#top tbody tr td:nth-child(4)").all_inner_texts()]
    assert column == sorted(column, reverse=True) and len(column) == 20
    tab.keyboard.press("Enter")  # the same header again: ascending
    wait_for_top_sort(tab, "Temperature")
    column = [float(t) for t in tab.locator("#top tbody tr td:nth-child(4)").all_inner_texts()]
    assert column == sorted(column)
    clean(log, api)


def test_a_new_generation_leaves_the_keyboard_focus_on_the_table_header(
    api: ApiProcess, real_redis: redis.Redis, page: tuple[Any, PageLog]
) -> None:
    tab, log = page
    open_dashboard(tab, api, publish(real_redis, seed=1))
    tab.get_by_role("button", name="Temperature").focus()
    wait_for_render(tab, publish(real_redis, seed=2))  # the table is drawn again
    assert tab.evaluate("document.activeElement.title") == "sort by Temperature"
    clean(log, api)


def test_a_narrow_window_scrolls_nothing_sideways_but_the_table(
    api: ApiProcess, real_redis: redis.Redis, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    tab = context.new_page()
    log = PageLog()
    log.watch(tab)
    try:
        open_dashboard(tab, api, publish(real_redis, switches=2_000))
        page_width = tab.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 360
        assert tab.evaluate("document.getElementById('map').getBoundingClientRect().right") <= 360
        clean(log, api)
    finally:
        context.close()
