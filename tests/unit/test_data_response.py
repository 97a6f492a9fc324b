"""A data answer goes out with the headers answers.py built, in their order, through public APIs."""

from __future__ import annotations

from api_service import data_response


def test_a_data_response_sends_its_headers_and_body_as_built() -> None:
    pairs = [("ETag", '"1-csv-0"'), ("Content-Type", "text/csv; charset=utf-8")]
    response = data_response.DataResponse(b"switch,A\n1,2\n", list(pairs))
    assert response.status_code == 200 and response.get_data() == b"switch,A\n1,2\n"
    assert list(response.get_wsgi_headers({}).items()) == [*pairs, ("Content-Length", "13")]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
