"""The werkzeug internals that api_service/data_response.py relies on."""

from __future__ import annotations

from werkzeug.datastructures import Headers

from api_service import data_response


def test_werkzeug_headers_still_keep_their_pairs_in_list() -> None:
    assert isinstance(getattr(Headers(), "_list", None), list), (
        "werkzeug's Headers no longer keeps its (name, value) pairs in the private list _list "
        "that api_service/data_response.py fills: adapt it to this werkzeug version or keep "
        "the version bound in pyproject.toml"
    )
    assert data_response.PRIVATE_LIST


def test_a_data_response_sends_its_headers_and_body_as_built() -> None:
    pairs = [("ETag", '"1-csv-0"'), ("Content-Type", "text/csv; charset=utf-8")]
    response = data_response.DataResponse(b"switch,A\n1,2\n", list(pairs))
    assert response.status_code == 200 and response.get_data() == b"switch,A\n1,2\n"
    assert list(response.get_wsgi_headers({}).items()) == [*pairs, ("Content-Length", "13")]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
