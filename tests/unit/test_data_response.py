"""A data answer goes out with the headers answers.py built, in their order, through public APIs."""

from __future__ import annotations

from api_service.answers import Answer, response


def test_a_data_response_sends_its_headers_and_body_as_built() -> None:
    pairs = [("ETag", '"1-csv-0"'), ("Content-Type", "text/csv; charset=utf-8")]
    sent = response(Answer(200, [*pairs, ("Content-Length", "13")], b"switch,A\n1,2\n"))
    assert sent.status_code == 200 and sent.get_data() == b"switch,A\n1,2\n"
    assert list(sent.get_wsgi_headers({}).items()) == [*pairs, ("Content-Length", "13")]
    assert sent.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_a_304_has_the_data_headers_and_no_body() -> None:
    sent = response(Answer(304, [("ETag", '"1-csv-0"'), ("X-Telemetry-Generation", "7")], b""))
    assert sent.status_code == 304 and sent.get_data() == b""
    assert sent.headers["ETag"] == '"1-csv-0"' and sent.headers["X-Telemetry-Generation"] == "7"
