"""``GET /``: the live dashboard for browsers, the list of routes for every other client.

The page is one HTML file, one script and one style sheet from this package, with no build
step and nothing from another origin (its Content-Security-Policy forbids it). Each asset is
answered with an ETag and revalidated, so a browser downloads it again only when it changed.
The page itself reads nothing but the API's own answers.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.resources import files

from flask import Blueprint, Response, request

from api_service.errors import ROUTES
from telemetry_common.catalogue import MEANINGS, Kind

bp = Blueprint("dashboard", __name__, static_folder="static", static_url_path="/static")

HTML = "text/html"
PLAIN = "text/plain"
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
UNITS_PLACEHOLDER = "{{units}}"
COUNTERS_PLACEHOLDER = "{{counters}}"


@lru_cache(maxsize=1)
def page() -> tuple[bytes, str]:
    """Return the page, with the catalogue's units and counters filled in, and its ETag."""
    template = files("api_service").joinpath("static/index.html").read_text(encoding="utf-8")
    units = json.dumps({meaning.name: meaning.unit for meaning in MEANINGS})
    counters = json.dumps([m.name for m in MEANINGS if m.kind is Kind.COUNTER])
    body = template.replace(UNITS_PLACEHOLDER, units.replace("<", "\\u003c"))
    body = body.replace(COUNTERS_PLACEHOLDER, counters.replace("<", "\\u003c"))
    return body.encode(), hashlib.sha256(body.encode()).hexdigest()[:20]


def routes_text() -> bytes:
    """Return the plain-text list of the API's routes."""
    return f"Switch telemetry API. It serves {ROUTES}.\n".encode()


@bp.get("/")
def index() -> Response:
    """Return the dashboard to a browser, the list of routes to any other client."""
    if request.accept_mimetypes.best_match([PLAIN, HTML]) != HTML:
        return Response(
            routes_text(), content_type=f"{PLAIN}; charset=utf-8", headers={"Vary": "Accept"}
        )
    body, etag = page()
    response = Response(body, content_type=f"{HTML}; charset=utf-8")
    response.headers.update(
        {
            "Vary": "Accept",
            "Cache-Control": "no-cache",
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
    )
    response.set_etag(etag)
    response.make_conditional(request)  # 304 in place when the client holds this page
    return response
