"""GET / by content negotiation, and the dashboard's assets served with ETags."""

from __future__ import annotations

import re
from pathlib import Path

import fakeredis
import pytest
from flask.testing import FlaskClient

from tests.helpers.api import make_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
STATIC = Path(__file__).resolve().parents[2] / "api_service" / "static"


@pytest.fixture
def client(fake: fakeredis.FakeRedis) -> FlaskClient:
    return make_app(fake).test_client()


def test_a_browser_gets_the_page_and_other_clients_the_routes(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept": BROWSER})
    assert page.status_code == 200 and page.content_type == "text/html; charset=utf-8"
    assert '<script src="static/dashboard.js" defer></script>' in page.text
    assert '"Latency": "ms"' in page.text  # the units, from the metric catalogue
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert page.headers["Vary"] == "Accept"
    for accept in ("*/*", "text/plain", "application/json", None):
        routes = client.get("/", headers={"Accept": accept} if accept else {})
        assert routes.status_code == 200
        assert routes.content_type == "text/plain; charset=utf-8"
        assert routes.text.startswith("Switch telemetry API. It serves /telemetry/GetMetric")
        assert "/telemetry/prometheus" in routes.text


@pytest.mark.parametrize("path", ["/", "/static/dashboard.js", "/static/dashboard.css"])
def test_the_page_and_its_assets_carry_an_etag_and_answer_304_when_it_is_current(
    client: FlaskClient, path: str
) -> None:
    with client.get(path, headers={"Accept": BROWSER}) as first:  # closes a file it sends
        assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
        assert first.data
        etag = first.headers["ETag"]
    with client.get(path, headers={"Accept": BROWSER, "If-None-Match": etag}) as again:
        assert again.status_code == 304 and again.data == b""


def test_an_unknown_asset_is_a_plain_404(client: FlaskClient) -> None:
    with client.get("/static/nope.js") as response:
        assert response.status_code == 404 and response.text.startswith("404 Not Found: ")


def test_the_assets_name_no_other_origin() -> None:
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"(https?:)?//[a-z0-9]", text.replace("http://www.w3.org", "")), path
        assert "@import" not in text and "url(" not in text, path
