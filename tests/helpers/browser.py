"""A real Chromium (the system's package) driven by Playwright, and an API process for it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.helpers import Service, free_port

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str:
    """Return the system Chromium's path, or fail saying how to install it."""
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError(
        "the browser tests need Chromium on PATH: install Debian's package "
        "(apt-get install chromium); .ci/run does so in CI"
    )


@contextmanager
def chromium() -> Iterator[Any]:
    """Start the system Chromium, headless, under Playwright; close it on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """Everything a page did that a test checks: console errors and the origins it asked."""

    errors: list[str] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        """Record the console errors, page errors and every request of ``page``."""
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        self.requests.append((request.url, request.headers))
        parts = urlsplit(request.url)
        self.origins.add(f"{parts.scheme}://{parts.netloc}" if parts.netloc else parts.scheme)

    def polls(self) -> list[dict[str, str]]:
        """Return the headers of every poll of the table so far (not the rates or the top table,
        which name their generation)."""
        return [
            h
            for url, h in self.requests
            if "/telemetry/ListMetrics" in url and "generation=" not in url
        ]


class ApiProcess:
    """``telemetry api`` (one worker) on a free port, over the given Redis and key prefix."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {"TELEMETRY_REDIS_URL": redis_url, "TELEMETRY_KEY_PREFIX": prefix}
        self.service = Service(
            ["api", "--bind", self.url.removeprefix("http://"), "--workers", "1"], env=env
        )
        self.service.wait_http(self.url + "/healthz")

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """Send a GET to the API."""
        return requests.get(self.url + path, timeout=5, **kwargs)

    def stop(self) -> None:
        """Stop the process."""
        self.service.stop()
